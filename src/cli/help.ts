// Usage lines and `--help` text, generated from the option tables (pure).
import { COMMANDS, type CommandSpec, type OptionSpec } from './option-tables.js';

const WIDTH = 100;

export function optionValue(spec: OptionSpec): string {
  if (spec.type === 'boolean') return '';
  return spec.choices ? spec.choices.join('|') : (spec.value ?? 'VALUE');
}

function optionWord(name: string, spec: OptionSpec): string {
  const value = optionValue(spec);
  const word = `--${name}${value ? ` ${value}` : ''}`;
  return spec.required ? word : `[${word}]`;
}

/** Words wrapped to WIDTH, continuation lines indented to `indent`. */
function wrap(first: string, words: string[], indent: number, width = WIDTH): string {
  const lines: string[] = [];
  let line = first;
  for (const word of words) {
    if (line.length + 1 + word.length > width && line.trim().length > 0 && line.length > indent) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else {
      line += (line.length === 0 || line.endsWith(' ') ? '' : ' ') + word;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

/** `vifd run [--desired-dir DIR] ...`, wrapped. */
export function synopsis(command: CommandSpec, prefix = 'vifd'): string {
  const words = Object.entries(command.options).map(([name, spec]) => optionWord(name, spec));
  if (command.positionals) words.push(command.positionals.name);
  const head = `${prefix} ${command.name}`;
  return wrap(head, words, head.length + 1);
}

function defaultOf(spec: OptionSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.type === 'string' && typeof spec.default === 'string') return spec.default;
  return undefined;
}

/** One paragraph, wrapped at `width`, each line indented by `indent`. */
function paragraph(text: string, indent: number, width = WIDTH): string {
  return wrap(' '.repeat(indent), text.split(/\s+/).filter(Boolean), indent, width);
}

export function commandHelp(command: CommandSpec): string {
  const out = [synopsis(command, 'usage: vifd'), '', `vifd ${command.name}: ${command.summary}.`, ''];
  for (const text of command.description) out.push(paragraph(text, 0), '');
  if (command.positionals) out.push('arguments:', `  ${command.positionals.name}`, paragraph(command.positionals.help, 6), '');
  out.push('options:');
  for (const [name, spec] of Object.entries(command.options)) {
    const value = optionValue(spec);
    out.push(`  --${name}${value ? ` ${value}` : ''}`);
    const dflt = defaultOf(spec);
    out.push(paragraph(`${spec.help}${spec.required ? ' Required.' : ''}${dflt !== undefined ? ` Default: ${dflt}.` : ''}`, 6));
  }
  out.push('  -h, --help', '      Show this help.');
  return out.join('\n');
}

export function usage(): string {
  const out = ['usage:'];
  for (const command of COMMANDS) out.push(synopsis(command, '  vifd'));
  out.push('  vifd --version', '', 'commands:');
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const command of COMMANDS) out.push(`  ${command.name.padEnd(width)}  ${command.summary}`);
  out.push('', '`vifd COMMAND --help` describes each option; `vifd man | man -l -` is the manual.');
  return out.join('\n');
}
