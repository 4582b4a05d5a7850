import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The web console: a single page served by the server at /ui/. It is built
 * into client-web/dist/console, outside the files the SDK's package
 * publishes; the server's build copies it into the server package.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  plugins: [react()],
  // The SDK from its sources, as everywhere else in the repository.
  resolve: { alias: { "@keyquarry/client-web": fileURLToPath(new URL("../src/index.ts", import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  // `npm run dev:console -w client-web`: live reload at http://localhost:5173/ui/, calls sent on to a server on the default port.
  server: { proxy: { "/keyquarry.": "http://localhost:33969" } },
  logLevel: "warn",
});
