/** Shortest time between two redraws, so that a fast bulk command does not spend its time drawing. */
const redrawMs = 200;

/**
 * A progress line on stderr, redrawn in place, only when stderr is a
 * terminal (a script reading stderr gets no carriage returns).
 */
export class ProgressLine {
  private lastDrawn = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Redraws the line with `text()` unless it was drawn less than 200 ms ago. */
  update(text: () => string): void {
    const now = Date.now();
    if (!this.stream.isTTY || now - this.lastDrawn < redrawMs) {
      return;
    }
    this.lastDrawn = now;
    this.drawn = true;
    this.stream.write(`\r${text()}\x1b[K`);
  }

  /** Ends the line, if one was drawn, so that what follows starts on a new one. */
  end(): void {
    if (this.drawn) {
      this.stream.write("\n");
    }
  }
}
