/**
 * A configuration problem the user must fix: an unknown option, an invalid
 * value, an inconsistent combination or an unreadable config file. The
 * message always names the option so the user knows where to look.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  /**
   * The canonical snake_case option name, e.g. `max_keys` or
   * `snapshot.interval` (`config` for problems with the file itself; for an
   * unknown option, the name as written).
   */
  readonly option: string;

  /**
   * Creates an error about `option`. If `message` does not already mention
   * the option as `'option'`, it is prefixed with `option '<name>': ` so the
   * guarantee above cannot be forgotten by a caller.
   */
  constructor(option: string, message: string, options?: ErrorOptions) {
    super(message.includes(`'${option}'`) ? message : `option '${option}': ${message}`, options);
    this.option = option;
  }

  /**
   * `invalid value for option '<option>': <problem>[ (<origin>)]`, where
   * origin says where the value came from, e.g. `in /etc/kq.yaml`.
   */
  static invalidValue(option: string, problem: string, origin?: string, options?: ErrorOptions): ConfigError {
    const suffix = origin === undefined ? "" : ` (${origin})`;
    return new ConfigError(option, `invalid value for option '${option}': ${problem}${suffix}`, options);
  }

  /** `unknown option '<option>' (<origin>)[; did you mean '<suggestion>'?]`. */
  static unknownOption(option: string, origin: string, suggestion?: string): ConfigError {
    const hint = suggestion === undefined ? "" : `; did you mean '${suggestion}'?`;
    return new ConfigError(option, `unknown option '${option}' (${origin})${hint}`);
  }
}
