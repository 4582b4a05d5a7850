import { build } from "esbuild";

/** A page script bundled by esbuild. */
export interface BrowserBundle {
  /** The script. */
  text: string;
  /** Every file bundled into it, relative to the working directory. */
  inputs: string[];
}

/**
 * Bundles `entry` and everything it imports into one script for a page.
 * Bare imports resolve from the entry's folder upwards, as for any
 * project; `workingDir` is what `inputs` are relative to.
 */
export async function bundleForBrowser(entry: string, workingDir: string): Promise<BrowserBundle> {
  const { outputFiles, metafile } = await build({
    entryPoints: [entry],
    absWorkingDir: workingDir,
    bundle: true,
    format: "iife",
    // Also proves the bundled code needs no Node built-ins: they do not resolve here.
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const [output] = outputFiles;
  if (output === undefined) {
    throw new Error(`esbuild produced no output for ${entry}`);
  }
  return { text: output.text, inputs: Object.keys(metafile.inputs) };
}
