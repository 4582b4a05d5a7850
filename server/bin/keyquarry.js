#!/usr/bin/env node
// The `keyquarry` command: runs the built CLI (dist/, made by `npm run build`).
import module from "node:module";

// Node 22.1+ keeps compiled code between runs; a CLI invoked once per command
// pays mostly for compilation, so this roughly halves its start-up there.
module.enableCompileCache?.();
await import("../dist/cli/cli.js");
