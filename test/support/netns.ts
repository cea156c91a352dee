// A throwaway namespace seen asynchronously: the chaos and soak harnesses
// poll it (several `ip` calls at once) while vifd repairs it. Creating and
// deleting it, and the shape of a link, are test/helpers/netns.ts's.
import { createNetns, deleteNetns, type IpLinkJson } from '../helpers/netns.js';
import { run } from './exec.js';

export class Netns {
  constructor(readonly name: string) {}

  static create(name: string): Netns {
    createNetns(name);
    return new Netns(name);
  }

  destroy(): void {
    deleteNetns(this.name);
  }

  ip(...args: string[]): Promise<string> {
    return run(['ip', '-n', this.name, ...args]);
  }

  ipMaybe(...args: string[]): Promise<string> {
    return run(['ip', '-n', this.name, ...args], { allowFailure: true });
  }

  async links(): Promise<Map<string, IpLinkJson>> {
    const list = JSON.parse(await this.ip('-j', '-d', 'link', 'show')) as IpLinkJson[];
    return new Map(list.map((l) => [l.ifname, l]));
  }

  /** Just these devices (absent ones are left out): cheaper than a full dump. */
  async someLinks(names: readonly string[]): Promise<Map<string, IpLinkJson>> {
    const out = new Map<string, IpLinkJson>();
    await Promise.all(
      names.map(async (name) => {
        const text = await this.ipMaybe('-j', '-d', 'link', 'show', 'dev', name);
        if (!text) return;
        const [link] = JSON.parse(text) as IpLinkJson[];
        if (link) out.set(link.ifname, link);
      }),
    );
    return out;
  }
}
