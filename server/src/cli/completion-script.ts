import type { Command, Option } from "commander";

// Hand-written: the completion libraries for commander (@bomb.sh/tab,
// tabtab, omelette) complete by running the program again on every Tab,
// which for a Node.js CLI is a start-up (~0.1 s) per keystroke. Our command
// tree is static, so the script carries it as data and completes in the
// shell alone.

/** Shells `keyquarry completion` writes a script for. */
export const completionShells = ["bash", "zsh", "fish"] as const;

/** One of {@link completionShells}. */
export type CompletionShell = (typeof completionShells)[number];

/** A command of the tree, by its path of names (`keyquarry client set`). */
interface Node {
  path: string;
  subcommands: { names: string[]; description: string }[];
  options: Option[];
  /** Values of the command's positional arguments that have choices. */
  argumentChoices: string[];
}

/**
 * A completion script for `shell` that completes the subcommands (names and
 * aliases, at every level), options (a command's own and, below the root,
 * its parents', which commander accepts after the subcommand too) and the
 * choices of options and arguments of `program`'s tree.
 */
export function completionScript(program: Command, shell: CompletionShell): string {
  const nodes = commandNodes(program, program.name(), []);
  return shell === "fish" ? fishScript(program.name(), nodes) : bashScript(program.name(), nodes, shell === "zsh");
}

function commandNodes(command: Command, path: string, inherited: Option[]): Node[] {
  const help = command.createHelp();
  const options = [...help.visibleOptions(command), ...inherited.filter((option) => !option.hidden)];
  const subcommands = help.visibleCommands(command).filter((sub) => sub.name() !== "help");
  const node: Node = {
    path,
    subcommands: subcommands.map((sub) => ({ names: [sub.name(), ...sub.aliases()], description: sub.description() })),
    options,
    argumentChoices: command.registeredArguments.flatMap((argument) => argument.argChoices ?? []),
  };
  // The root's own options (--version) only come before a subcommand.
  const passedDown = command.parent === null ? [] : command.options.filter((option) => !option.hidden).concat(inherited);
  return [node, ...subcommands.flatMap((sub) => commandNodes(sub, `${path} ${sub.name()}`, passedDown))];
}

/** Whether the option is followed by a value (`--address <addr>`). */
const takesValue = (option: Option) => option.required || option.optional;
const flagsOf = (option: Option) => [option.long, option.short].filter((flag): flag is string => flag !== undefined);
const words = (list: readonly string[]) => list.join(" ");

/** `'text'` for sh-like shells. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// The script walks the words before the cursor: a word naming a subcommand
// of the current command descends into it, an option that takes a value
// skips the word after it. Then it offers what the command reached accepts.
function bashScript(name: string, nodes: Node[], zsh: boolean): string {
  const fn = `_${name.replace(/\W/g, "_")}_complete`;
  const caseArms = (value: (node: Node) => string) =>
    nodes.map((node) => `    ${quote(node.path)}) echo ${quote(value(node))} ;;`).join("\n");
  const choiceArms = nodes.flatMap((node) =>
    node.options
      .filter((option) => option.argChoices !== undefined)
      .map((option) => `    ${quote(`${node.path}|${option.long ?? option.short ?? ""}`)}) echo ${quote(words(option.argChoices ?? []))} ;;`),
  );
  return `# ${name} completion for ${zsh ? "zsh" : "bash"}: ${zsh ? "source <(" + name + " completion zsh) in ~/.zshrc" : "source <(" + name + " completion bash) in ~/.bashrc"}
${zsh ? "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\nautoload -U +X bashcompinit && bashcompinit\n" : ""}${fn}_commands() {
  case "$1" in
${caseArms((node) => words(node.subcommands.flatMap((sub) => sub.names)))}
  esac
}
${fn}_options() {
  case "$1" in
${caseArms((node) => words(node.options.flatMap(flagsOf)))}
  esac
}
${fn}_valued() {
  case "$1" in
${caseArms((node) => words(node.options.filter(takesValue).flatMap(flagsOf)))}
  esac
}
${fn}_arguments() {
  case "$1" in
${caseArms((node) => words(node.argumentChoices))}
  esac
}
${fn}_choices() {
  case "$1" in
${choiceArms.join("\n")}
  esac
}
${fn}() {
  # zsh (bashcompinit) passes COMP_WORDS as a zsh array: count from 0 as bash does.
  [[ -n "\${ZSH_VERSION-}" ]] && setopt localoptions ksharrays
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd=${quote(name)} word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ "$word" == -* ]]; then
      [[ " $(${fn}_valued "$cmd") " == *" $word "* ]] && ((i++))
    elif [[ " $(${fn}_commands "$cmd") " == *" $word "* ]]; then
      cmd="$cmd $(${fn}_canonical "$cmd" "$word")"
    fi
  done
  local prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if ((COMP_CWORD > 1)) && [[ " $(${fn}_valued "$cmd") " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_choices "$cmd|$prev")" -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_options "$cmd")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${fn}_commands "$cmd") $(${fn}_arguments "$cmd")" -- "$cur"))
  fi
}
${fn}_canonical() {
  case "$1|$2" in
${nodes
  .flatMap((node) =>
    node.subcommands
      .filter((sub) => sub.names.length > 1)
      .map((sub) => `    ${quote(`${node.path}|`)}${sub.names.map((alias) => quote(alias)).join(`|${quote(`${node.path}|`)}`)}) echo ${quote(sub.names[0]!)} ;;`),
  )
  .join("\n")}
    *) echo "$2" ;;
  esac
}
complete -F ${fn} ${name}
`;
}

function fishScript(name: string, nodes: Node[]): string {
  const fn = `__${name.replace(/\W/g, "_")}_complete`;
  const lists = (value: (node: Node) => string[]) =>
    nodes
      .filter((node) => value(node).length > 0)
      .map((node) => `        case ${quote(node.path)}\n            printf '%s\\n' ${value(node).map(quote).join(" ")}`)
      .join("\n");
  const lines: string[] = [];
  for (const node of nodes) {
    const when = `-n ${quote(`test (${fn}_path) = ${quote(node.path)}`)}`;
    for (const sub of node.subcommands) {
      for (const subName of sub.names) {
        lines.push(`complete -c ${name} -f ${when} -a ${quote(subName)} -d ${quote(sub.description)}`);
      }
    }
    if (node.argumentChoices.length > 0) {
      lines.push(`complete -c ${name} -f ${when} -a ${quote(words(node.argumentChoices))}`);
    }
    for (const option of node.options) {
      const flags = [...(option.long === undefined ? [] : [`-l ${quote(option.long.slice(2))}`]), ...(option.short === undefined ? [] : [`-s ${quote(option.short.slice(1))}`])];
      const value = option.argChoices !== undefined ? ` -x -a ${quote(words(option.argChoices))}` : takesValue(option) ? " -r" : "";
      lines.push(`complete -c ${name} ${when} ${flags.join(" ")}${value} -d ${quote(option.description)}`);
    }
  }
  return `# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish
function ${fn}_commands
    switch $argv[1]
${lists((node) => node.subcommands.flatMap((sub) => sub.names))}
    end
end
function ${fn}_canonical
    switch "$argv[1]|$argv[2]"
${nodes
  .flatMap((node) => node.subcommands.flatMap((sub) => sub.names.slice(1).map((alias) => `        case ${quote(`${node.path}|${alias}`)}\n            echo ${quote(sub.names[0]!)}`)))
  .join("\n")}
        case '*'
            echo $argv[2]
    end
end
function ${fn}_valued
    switch $argv[1]
${lists((node) => node.options.filter(takesValue).flatMap(flagsOf))}
    end
end
# The command the words before the cursor have reached, e.g. "${name} client set".
function ${fn}_path
    set -l words (commandline -opc)
    set -l cmd ${quote(name)}
    set -l skip 0
    for word in $words[2..-1]
        if test $skip = 1
            set skip 0
        else if string match -q -- '-*' $word
            contains -- $word (${fn}_valued $cmd); and set skip 1
        else if contains -- $word (${fn}_commands $cmd)
            set cmd "$cmd "(${fn}_canonical $cmd $word)
        end
    end
    echo $cmd
end
complete -c ${name} -e
${lines.join("\n")}
`;
}
