import { defineConfig } from "tsdown";
import { packageBuild } from "../tsdown.base.js";

// The Node SDK: one ES module and one declaration file. The browser SDK's
// protocol-neutral helpers (listAllKeys, clientIdInterceptor) come bundled.
export default defineConfig({ ...packageBuild, entry: ["src/index.ts"], platform: "node", dts: { eager: true } });
