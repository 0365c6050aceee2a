/** Pure tests of the nginx.conf builder: options, validation and the rendered text. */
import { describe, expect, it } from "vitest";
import {
  HEALTH_BODY,
  IMMUTABLE_CACHE_CONTROL,
  NGINX_DEFAULTS,
  NGINX_WRITABLE_PATHS,
  READY_BODY,
  renderNginxConfig,
  validateNginxOptions,
} from "./nginx";

/** The body of `location <match> { ... }` in a rendered config. */
function location(conf: string, match: string): string {
  const start = conf.indexOf(`location ${match} {`);
  expect(start, `location ${match}`).toBeGreaterThanOrEqual(0);
  return conf.slice(start, conf.indexOf("\n        }", start));
}

describe("renderNginxConfig", () => {
  it("is deterministic and renders the defaults", () => {
    const conf = renderNginxConfig();
    expect(renderNginxConfig({})).toBe(conf);
    expect(conf).toContain("listen *:8080;");
    expect(conf).toContain("listen [::]:8080;");
    expect(conf).toContain("root /usr/share/nginx/html;");
    expect(conf).toContain("pid /tmp/nginx/nginx.pid;");
    expect(conf).toContain("access_log /dev/stdout json_standard;");
    expect(conf).toContain("error_log stderr warn;");
    expect(conf).toContain("gzip_static on;");
    expect(conf).not.toContain("load_module");
    expect(conf).not.toContain("brotli");
    expect(conf).toContain("server_tokens off;");
  });

  it("puts every temp path and the pid file under runDir, the only declared writable path", () => {
    expect(NGINX_WRITABLE_PATHS).toEqual([NGINX_DEFAULTS.runDir]);
    const conf = renderNginxConfig({ runDir: "/run/web" });
    for (const directive of [
      "pid",
      "client_body_temp_path",
      "proxy_temp_path",
      "fastcgi_temp_path",
      "uwsgi_temp_path",
      "scgi_temp_path",
    ]) {
      const line = conf.split("\n").find((l) => l.trim().startsWith(`${directive} `));
      expect(line, directive).toMatch(/ \/run\/web\//);
    }
  });

  it("includes Debian's and the image's MIME types file unless given another", () => {
    expect(renderNginxConfig()).toContain("    include /etc/nginx/mime.types;\n");
    expect(renderNginxConfig({ mimeTypes: "/srv/mime.types" })).toContain(
      "    include /srv/mime.types;\n",
    );
    expect(validateNginxOptions({ mimeTypes: "mime.types" })).toEqual([
      "mimeTypes (\"mime.types\") must be an absolute path without spaces, ';' or braces.",
    ]);
  });

  it("binds one address and can leave out IPv6", () => {
    const conf = renderNginxConfig({ port: 9000, listenAddress: "127.0.0.1", ipv6: false });
    expect(conf).toContain("listen 127.0.0.1:9000;");
    expect(conf).not.toContain("[::]");
  });

  it("loads modules first and turns brotli_static on only when asked", () => {
    const mod = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";
    const conf = renderNginxConfig({ loadModules: [mod], brotliStatic: true });
    expect(conf.split("\n")[1]).toBe(`load_module ${mod};`);
    expect(conf).toContain("    brotli_static on;");
    expect(renderNginxConfig({ gzipStatic: false })).not.toContain("gzip_static");
  });

  it("answers the probes from nginx itself with no-store and without logging", () => {
    const conf = renderNginxConfig();
    for (const [path, body] of [
      ["/health", HEALTH_BODY],
      ["/ready", READY_BODY],
    ]) {
      const block = location(conf, `= ${path}`);
      expect(block).toContain(`return 200 '${body}';`);
      expect(block).toContain("access_log off;");
      expect(block).toContain('add_header Cache-Control "no-store";');
    }
  });

  it("repeats the security headers in every location that sets its own headers", () => {
    const conf = renderNginxConfig();
    for (const match of ["= /health", "= /ready", "/assets/", "= /index.html", "/"]) {
      expect(location(conf, match)).toContain(
        'add_header X-Content-Type-Options "nosniff" always;',
      );
      expect(location(conf, match)).toContain('add_header X-Frame-Options "DENY" always;');
    }
  });

  it("caches assets as immutable only on success, and never sends a missing asset to index.html", () => {
    const assets = location(renderNginxConfig(), "/assets/");
    expect(assets).toContain(`add_header Cache-Control "${IMMUTABLE_CACHE_CONTROL}";`);
    // A year, as the edge's cache rule keeps them (components/edge); spelled out, not the constant.
    expect(assets).toContain('add_header Cache-Control "public, max-age=31536000, immutable";');
    expect(assets).not.toMatch(/Cache-Control[^\n]*always/);
    expect(assets).toContain("try_files $uri =404;");
    expect(location(renderNginxConfig(), "/")).toContain("try_files $uri /index.html;");
  });
});

describe("validateNginxOptions", () => {
  it("accepts the defaults", () => {
    expect(validateNginxOptions({})).toEqual([]);
  });

  it("reports every problem at once, naming the option", () => {
    const problems = validateNginxOptions({
      port: 80,
      root: "relative/html",
      runDir: "/tmp/a b",
      listenAddress: "localhost",
      gzipMinLength: -1,
      accessLog: "/var/log/x;y",
      errorLog: "stdout",
      loadModules: ["mod.so"],
    });
    expect(problems).toHaveLength(8);
    expect(problems.join("\n")).toMatch(/^port \(80\)/m);
    expect(problems.join("\n")).toMatch(/^root /m);
    expect(problems.join("\n")).toMatch(/^runDir /m);
    expect(problems.join("\n")).toMatch(/^listenAddress /m);
    expect(problems.join("\n")).toMatch(/^gzipMinLength /m);
    expect(problems.join("\n")).toMatch(/^accessLog /m);
    expect(problems.join("\n")).toMatch(/^errorLog /m);
    expect(problems.join("\n")).toMatch(/^loadModules\[0\] /m);
  });

  it("asks for the Brotli module when brotliStatic is on", () => {
    expect(validateNginxOptions({ brotliStatic: true })).toEqual([
      expect.stringMatching(
        /^brotliStatic is on but no loadModules entry loads ngx_http_brotli_static_module/,
      ),
    ]);
  });

  it("makes renderNginxConfig throw with the list", () => {
    expect(() => renderNginxConfig({ port: 70000 })).toThrow(
      /Invalid nginx options:\n {2}- port \(70000\)/,
    );
  });
});
