/**
 * Writes docker/web/nginx.conf, the copy baked into the web image, from renderNginxConfig() with the
 * defaults the WebService uses. Run `npm run render:nginx` after changing components/web/nginx.ts;
 * docker/docker.test.ts fails while the committed file differs from the builder's output.
 *
 *   npm run render:nginx            write the file
 *   npm run render:nginx -- --check exit 1 if the file is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderNginxConfig } from "../components/web/nginx";

const WEB_IMAGE_NGINX_CONF = join(__dirname, "web", "nginx.conf");

function main(): void {
  // The image carries the builder's defaults, as the WebService renders them.
  const want = renderNginxConfig();
  let have = "";
  try {
    have = readFileSync(WEB_IMAGE_NGINX_CONF, "utf8");
  } catch {
    have = "";
  }
  if (process.argv.includes("--check")) {
    if (have !== want) {
      console.error(`${WEB_IMAGE_NGINX_CONF} is out of date: run npm run render:nginx`);
      process.exit(1);
    }
    console.log(`${WEB_IMAGE_NGINX_CONF} is up to date`);
    return;
  }
  writeFileSync(WEB_IMAGE_NGINX_CONF, want);
  console.log(`${have === want ? "unchanged" : "wrote"} ${WEB_IMAGE_NGINX_CONF}`);
}

main();
