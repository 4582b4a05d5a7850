import { defineConfig } from "tsdown";
import { packageBuild } from "../tsdown.base.js";

// The browser SDK: one ES module and one declaration file.
export default defineConfig({ ...packageBuild, entry: ["src/index.ts"], platform: "browser", dts: true });
