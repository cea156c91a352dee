// `tc qdisc replace dev D root noqueue` as the one RTM_NEWQDISC tc 6.1 sends
// (tc/tc_qdisc.c): a tcmsg for the root of D's ifindex, handle 0 (the kernel
// picks one), and TCA_KIND "noqueue" (NUL included, as tc sends it), no
// options. Pure.
import { encodeMessage, encodeTcMsg, nlaString, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST, RTM_NEWQDISC } from './wire.js';

const TCA_KIND = 1;
const TC_H_ROOT = 0xffffffff;

/** Seq 0 and no NLM_F_ACK: the channel sets both. */
export function noQueueRequest(ifindex: number): Buffer {
  return encodeMessage(RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, 0, encodeTcMsg({ ifindex, parent: TC_H_ROOT }), [nlaString(TCA_KIND, 'noqueue')]);
}
