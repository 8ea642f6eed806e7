/**
 * `canary completion bash|zsh|fish`: a completion script generated from the same commander
 * definitions `--help` prints, so a new command or flag completes the day it is added.
 * Static scripts (nothing runs at each Tab) except where the answer lives on disk: route ids
 * for `--route`, which the script asks `canary __routes` for (the routes in the state folder's
 * journals). Plan arguments complete to YAML files; choices to their values; folders and
 * files where a flag takes one.
 *
 * Why not a library: the candidates either run the whole CLI at every Tab and add their own
 * command to the program (@bomb.sh/tab, 0.x) or predate commander's option model (tabtab,
 * omelette); a script from the command table is about a hundred lines.
 */
import type { Argument, Command, Option } from 'commander';

type Shell = 'bash' | 'zsh' | 'fish';

interface Flag {
  short?: string | undefined;
  long?: string | undefined;
  description: string;
  /** What its value completes to, or undefined for a switch. */
  value?:
    | { kind: 'choices'; choices: string[] }
    | { kind: 'route' | 'dir' | 'file' | 'plan' | 'any' }
    | undefined;
}

interface Spec {
  name: string;
  description: string;
  flags: Flag[];
  /** The positional argument completes to plan (YAML) files. */
  planArgument: boolean;
  /** A positional with fixed choices (e.g. `completion <shell>`). */
  argumentChoices?: string[] | undefined;
}

function valueKind(option: Option): Flag['value'] {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return { kind: 'choices', choices: option.argChoices };
  const long = option.long ?? '';
  if (long === '--route') return { kind: 'route' };
  if (long === '--state-dir') return { kind: 'dir' };
  if (/file|scenario/.test(long)) return { kind: 'file' };
  return { kind: 'any' };
}

function specOf(command: Command): Spec {
  const args: readonly Argument[] = command.registeredArguments;
  const first = args[0];
  return {
    name: command.name(),
    description: command.description(),
    flags: [
      ...command.options
        .filter((o) => !o.hidden)
        .map((o) => ({ short: o.short, long: o.long, description: o.description, value: valueKind(o) })),
      { short: '-h', long: '--help', description: 'show help' },
    ],
    planArgument: first !== undefined && /plan|file/.test(first.name()) && first.argChoices === undefined,
    argumentChoices: first?.argChoices,
  };
}

function specs(program: Command): Spec[] {
  return program.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden && !c.name().startsWith('_'))
    .map(specOf);
}

const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function bash(program: Command): string {
  const all = specs(program);
  const names = all.map((s) => s.name).join(' ');
  const cases = all
    .map((s) => {
      const words = s.flags
        .flatMap((f) => [f.short, f.long].filter((x): x is string => x !== undefined))
        .join(' ');
      const values = s.flags
        .filter((f) => f.value !== undefined)
        .map((f) => {
          const pattern = [f.short, f.long].filter(Boolean).join('|');
          const v = f.value as NonNullable<Flag['value']>;
          const reply =
            v.kind === 'choices'
              ? `COMPREPLY=( $(compgen -W ${q(v.choices.join(' '))} -- "$cur") )`
              : v.kind === 'route'
                ? `COMPREPLY=( $(compgen -W "$(canary __routes 2>/dev/null)" -- "$cur") )`
                : v.kind === 'dir'
                  ? 'COMPREPLY=( $(compgen -d -- "$cur") )'
                  : v.kind === 'file'
                    ? 'COMPREPLY=( $(compgen -f -- "$cur") )'
                    : 'COMPREPLY=()';
          return `        ${pattern}) ${reply}; return ;;`;
        })
        .join('\n');
      const positional = s.argumentChoices
        ? `COMPREPLY=( $(compgen -W ${q(s.argumentChoices.join(' '))} -- "$cur") )`
        : s.planArgument
          ? `COMPREPLY=( $(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -S / -- "$cur") )`
          : 'COMPREPLY=()';
      return `    ${s.name})
      case "$prev" in
${values || '        --never-a-flag) ;;'}
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W ${q(words)} -- "$cur") ); return; fi
      ${positional}
      ;;`;
    })
    .join('\n');
  return `# canary completion for bash. Load it with:  source <(canary completion bash)
# or save it:  canary completion bash > ~/.local/share/bash-completion/completions/canary
_canary() {
  local cur prev cmd
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  shopt -s extglob
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W ${q(`${names} --help --version --no-color`)} -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
}
complete -o filenames -F _canary canary
`;
}

function zshValue(v: Flag['value']): string {
  if (!v) return '';
  switch (v.kind) {
    case 'choices':
      return `:value:(${v.choices.join(' ')})`;
    case 'route':
      return ':route:_canary_routes';
    case 'dir':
      return ':folder:_files -/';
    case 'file':
    case 'plan':
      return ':file:_files';
    default:
      return ':value: ';
  }
}

function zsh(program: Command): string {
  const all = specs(program);
  const clean = (text: string) => oneLine(text).replace(/[[\]]/g, '').replace(/:/g, ' -');
  const commands = all.map((s) => `    ${q(`${s.name}:${clean(s.description)}`)}`).join('\n');
  const cases = all
    .map((s) => {
      const flags = s.flags.map((f) => {
        const desc = `[${clean(f.description)}]${zshValue(f.value)}`;
        if (f.short && f.long) return `'(${f.short} ${f.long})'{${f.short},${f.long}}${q(desc)}`;
        return q(`${f.long ?? f.short}${desc}`);
      });
      if (s.argumentChoices) flags.push(q(`1:${s.name}:(${s.argumentChoices.join(' ')})`));
      else if (s.planArgument) flags.push(q(`1:plan:_files -g "*.(yaml|yml)"`));
      return `    ${s.name})\n      _arguments -s \\\n        ${flags.join(' \\\n        ')}\n      ;;`;
    })
    .join('\n');
  return `#compdef canary
# canary completion for zsh. Load it with:  source <(canary completion zsh)
# or save it as _canary in a folder on your $fpath.
_canary_routes() {
  local -a routes
  routes=(\${(f)"$(canary __routes 2>/dev/null)"})
  _describe 'route' routes
}
_canary() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _canary "$@"; else compdef _canary canary; fi
`;
}

function fish(program: Command): string {
  const all = specs(program);
  const lines = [
    '# canary completion for fish. Load it with:  canary completion fish | source',
    '# or save it:  canary completion fish > ~/.config/fish/completions/canary.fish',
    'complete -c canary -f',
    ...all.map(
      (s) => `complete -c canary -n __fish_use_subcommand -a ${s.name} -d ${q(oneLine(s.description))}`,
    ),
  ];
  for (const s of all) {
    const when = `-n ${q(`__fish_seen_subcommand_from ${s.name}`)}`;
    for (const f of s.flags) {
      const names = [f.short ? `-s ${f.short.slice(1)}` : '', f.long ? `-l ${f.long.slice(2)}` : '']
        .filter(Boolean)
        .join(' ');
      const v = f.value;
      const value = !v
        ? ''
        : v.kind === 'choices'
          ? ` -x -a ${q(v.choices.join(' '))}`
          : v.kind === 'route'
            ? ` -x -a ${q('(canary __routes 2>/dev/null)')}`
            : v.kind === 'dir'
              ? ` -x -a ${q('(__fish_complete_directories)')}`
              : v.kind === 'file'
                ? ' -r -F'
                : ' -x';
      lines.push(`complete -c canary ${when} ${names}${value} -d ${q(oneLine(f.description))}`);
    }
    if (s.argumentChoices) lines.push(`complete -c canary ${when} -x -a ${q(s.argumentChoices.join(' '))}`);
    else if (s.planArgument)
      lines.push(`complete -c canary ${when} -x -a ${q('(__fish_complete_suffix .yaml .yml)')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, program: Command): string {
  return shell === 'bash' ? bash(program) : shell === 'zsh' ? zsh(program) : fish(program);
}
