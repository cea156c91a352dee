// libvirt's own schema check of an <interface> element, inside a minimal domain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throws (with virt-xml-validate's output) unless libvirt accepts the XML. */
export function validateWithLibvirt(interfaceXml: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-xml-'));
  try {
    const file = join(dir, 'domain.xml');
    const indented = interfaceXml.split('\n').map((l) => `    ${l}`).join('\n');
    writeFileSync(
      file,
      `<domain type='kvm'>\n  <name>vifd-test</name>\n  <memory unit='MiB'>64</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <devices>\n${indented}\n  </devices>\n</domain>\n`,
    );
    execFileSync('virt-xml-validate', [file, 'domain'], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
