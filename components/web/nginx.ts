/**
 * The one nginx.conf builder. The WebService's ConfigMap, the web image (docker/Dockerfile.web) and
 * the real-nginx tests all render the configuration through `renderNginxConfig`, so what is tested
 * is what is deployed.
 *
 * The file is a complete nginx.conf (not a server block) because running as a non-root user with a
 * read-only root filesystem needs the pid file and every temp path moved under one writable folder.
 */

/** Options for {@link renderNginxConfig}; every field has a default that matches the seeds. */
export interface NginxConfigOptions {
  /** Unprivileged port nginx listens on. @default 8080 */
  readonly port?: number;
  /** IPv4 address to bind (`"*"` for every interface; tests pass `"127.0.0.1"`). @default "*" */
  readonly listenAddress?: string;
  /** Also listen on `[::]` (turn off where the pod or host has IPv6 disabled). @default true */
  readonly ipv6?: boolean;
  /** Folder holding the SPA build (`index.html`, `assets/`). @default "/usr/share/nginx/html" */
  readonly root?: string;
  /** The only writable folder nginx needs (pid file, temp files). @default "/tmp/nginx" */
  readonly runDir?: string;
  /** The MIME types file included in `http {}`. @default "/etc/nginx/mime.types" */
  readonly mimeTypes?: string;
  /** `worker_processes`. @default "auto" */
  readonly workerProcesses?: number | "auto";
  /** Smallest response (bytes) that gzip compresses. @default 1024 */
  readonly gzipMinLength?: number;
  /** Serve `*.gz` files next to assets when present (`gzip_static`). @default true */
  readonly gzipStatic?: boolean;
  /**
   * Dynamic modules to load (`load_module`), absolute paths; e.g. Debian's
   * `/usr/lib/nginx/modules/ngx_http_brotli_static_module.so`. @default []
   */
  readonly loadModules?: readonly string[];
  /** Serve `*.br` files next to assets when present (`brotli_static`); needs the module. @default false */
  readonly brotliStatic?: boolean;
  /** Where access logs go; JSON lines (architecture seed §7.3). @default "/dev/stdout" */
  readonly accessLog?: string;
  /**
   * Where error logs go: a path, or `"stderr"` (nginx's own name for file descriptor 2, which needs
   * no open() and so works whoever owns the container's stderr). @default "stderr"
   */
  readonly errorLog?: string;
}

/** Resolved options: what the config is rendered from. */
export type ResolvedNginxConfig = Required<NginxConfigOptions>;

export const NGINX_DEFAULTS: ResolvedNginxConfig = {
  port: 8080,
  listenAddress: "*",
  ipv6: true,
  root: "/usr/share/nginx/html",
  runDir: "/tmp/nginx",
  mimeTypes: "/etc/nginx/mime.types",
  workerProcesses: "auto",
  gzipMinLength: 1024,
  gzipStatic: true,
  loadModules: [],
  brotliStatic: false,
  accessLog: "/dev/stdout",
  errorLog: "stderr",
};

/**
 * Every path nginx writes to when rendered with the defaults: only {@link NGINX_DEFAULTS}.runDir
 * (pid file and temp folders). Logs go to stdout and stderr. Mount a writable emptyDir here and
 * nothing else; the real-nginx test runs nginx with exactly these paths writable.
 */
export const NGINX_WRITABLE_PATHS: readonly string[] = [NGINX_DEFAULTS.runDir];

/** Body of `GET /health` (liveness). */
export const HEALTH_BODY = '{"status":"healthy"}';
/** Body of `GET /ready` (readiness). */
export const READY_BODY = '{"status":"ready"}';

/** MIME types gzip compresses (text/html is always compressed by nginx once gzip is on). */
export const GZIP_TYPES = [
  "text/plain",
  "text/css",
  "text/javascript",
  "application/javascript",
  "application/json",
  "application/manifest+json",
  "application/xml",
  "image/svg+xml",
  "font/ttf",
  "application/wasm",
] as const;

/** Security headers sent on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};

/** Check options before rendering; returns every problem found, each naming the option and the fix. */
export function validateNginxOptions(opts: NginxConfigOptions): string[] {
  const problems: string[] = [];
  const o = { ...NGINX_DEFAULTS, ...opts };
  if (!Number.isInteger(o.port) || o.port < 1024 || o.port > 65535) {
    problems.push(
      `port (${o.port}) must be an unprivileged port between 1024 and 65535: nginx runs as a non-root user.`,
    );
  }
  for (const [key, value] of [
    ["root", o.root],
    ["runDir", o.runDir],
    ["mimeTypes", o.mimeTypes],
    ["accessLog", o.accessLog],
    ["errorLog", o.errorLog === "stderr" ? "/dev/stderr" : o.errorLog],
  ] as const) {
    if (!value.startsWith("/") || /[\s;{}]/.test(value)) {
      problems.push(
        `${key} (${JSON.stringify(value)}) must be an absolute path without spaces, ';' or braces.`,
      );
    }
  }
  if (o.listenAddress !== "*" && !/^(\d{1,3}\.){3}\d{1,3}$/.test(o.listenAddress)) {
    problems.push(
      `listenAddress (${JSON.stringify(o.listenAddress)}) must be "*" or an IPv4 address such as "127.0.0.1".`,
    );
  }
  o.loadModules.forEach((path, i) => {
    if (!path.startsWith("/") || !path.endsWith(".so") || /[\s;{}'"]/.test(path)) {
      problems.push(
        `loadModules[${i}] (${JSON.stringify(path)}) must be an absolute path to a .so file without spaces, quotes, ';' or braces.`,
      );
    }
  });
  if (o.brotliStatic && !o.loadModules.some((path) => path.includes("brotli_static"))) {
    problems.push(
      "brotliStatic is on but no loadModules entry loads ngx_http_brotli_static_module: add its path (Debian: /usr/lib/nginx/modules/ngx_http_brotli_static_module.so) or turn brotliStatic off.",
    );
  }
  if (!Number.isInteger(o.gzipMinLength) || o.gzipMinLength < 0) {
    problems.push(
      `gzipMinLength (${o.gzipMinLength}) must be a non-negative integer number of bytes.`,
    );
  }
  return problems;
}

/**
 * `add_header` lines for one location. nginx drops the server-level add_header lines in any location
 * that has its own, so every location repeats the security headers. They are sent `always` (errors
 * too); Cache-Control is not, so a 404 for a missing fingerprinted asset is never cached for a year.
 */
function headerLines(indent: string, cacheControl?: string): string {
  const lines = Object.entries(SECURITY_HEADERS).map(
    ([name, value]) => `${indent}add_header ${name} "${value}" always;`,
  );
  if (cacheControl !== undefined) {
    lines.push(`${indent}add_header Cache-Control "${cacheControl}";`);
  }
  return lines.join("\n");
}

/** Name of the JSON access-log format (architecture seed §7.3: level, timestamp, message, context). */
export const ACCESS_LOG_FORMAT = "json_standard";
/** The error log's level: `warn` and above (nginx's `warn`, `error`, `crit`, `alert`, `emerg`). */
export const ERROR_LOG_LEVEL = "warn";

/**
 * How long fingerprinted build output (`/assets/`) may be cached, in seconds: a year (a new build
 * has new file names, so a cached file never goes stale). nginx tells browsers so, and the edge's
 * cache rule keeps assets as long (components/edge: `assetsEdgeTtlSeconds`).
 */
export const ASSET_CACHE_SECONDS = 31_536_000;
/** Cache-Control of fingerprinted build output (`/assets/`). */
export const IMMUTABLE_CACHE_CONTROL = `public, max-age=${ASSET_CACHE_SECONDS}, immutable`;
/** Cache-Control of `index.html` and SPA routes: revalidate every time (ETag makes it cheap). */
export const HTML_CACHE_CONTROL = "no-cache";
/** Cache-Control of `/health` and `/ready`: never from a cache. */
export const PROBE_CACHE_CONTROL = "no-store";

/**
 * Render nginx.conf for the SPA. Pure: the same options always give the same bytes.
 * Throws with every problem listed when an option is invalid.
 */
export function renderNginxConfig(opts: NginxConfigOptions = {}): string {
  const problems = validateNginxOptions(opts);
  if (problems.length > 0) {
    throw new Error(`Invalid nginx options:\n  - ${problems.join("\n  - ")}`);
  }
  const o: ResolvedNginxConfig = { ...NGINX_DEFAULTS, ...opts };
  const run = o.runDir;
  const modules = o.loadModules.map((path) => `load_module ${path};\n`).join("");
  const listen =
    `        listen ${o.listenAddress}:${o.port};\n` +
    (o.ipv6 ? `        listen [::]:${o.port};\n` : "");
  const probe = (path: string, body: string): string => `        location = ${path} {
            access_log off;
            default_type application/json;
${headerLines("            ", PROBE_CACHE_CONTROL)}
            return 200 '${body}';
        }`;
  return `# Rendered by components/web/nginx.ts: do not edit by hand.
${modules}worker_processes ${o.workerProcesses};
pid ${run}/nginx.pid;
error_log ${o.errorLog} ${ERROR_LOG_LEVEL};

events {
    worker_connections 1024;
}

http {
    include ${o.mimeTypes};
    default_type application/octet-stream;

    # Non-root, read-only root filesystem: every temp path lives under ${run}.
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;

    server_tokens off;
    absolute_redirect off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    # The image's content never changes while it runs: keep descriptors and stat() results.
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_errors on;

    # Logging standard (architecture seed §7.3): one JSON object per line with level, timestamp,
    # message and context. Never logged: the query string (the path is logged without it, the
    # referer too), Authorization, Cookie and every other request header but User-Agent.
    map $status $log_level {
        ~^5 error;
        ~^4 warn;
        default info;
    }
    map $request_uri $log_path {
        ~^([^?#]*) $1;
    }
    map $http_referer $log_referer {
        ~^([^?#]*) $1;
    }
    log_format ${ACCESS_LOG_FORMAT} escape=json '{'
        '"level":"$log_level",'
        '"timestamp":"$time_iso8601",'
        '"message":"$request_method $log_path $status",'
        '"context":{'
            '"log":"access",'
            '"request_id":"$request_id",'
            '"method":"$request_method",'
            '"path":"$log_path",'
            '"protocol":"$server_protocol",'
            '"status":$status,'
            '"body_bytes_sent":$body_bytes_sent,'
            '"bytes_sent":$bytes_sent,'
            '"request_time":$request_time,'
            '"remote_addr":"$remote_addr",'
            '"x_forwarded_for":"$http_x_forwarded_for",'
            '"referer":"$log_referer",'
            '"user_agent":"$http_user_agent"'
        '}'
    '}';
    access_log ${o.accessLog} ${ACCESS_LOG_FORMAT};
    # The error log stays in nginx's own text format (nginx has no JSON option for it; see
    # docs/web-tier.md). Its request lines carry the query string, so a file nginx cannot find
    # (an image that lost index.html) is left to the access log's 404 rather than logged there.
    log_not_found off;

    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 6;
    gzip_min_length ${o.gzipMinLength};
    gzip_types ${GZIP_TYPES.join(" ")};
${o.gzipStatic ? "    gzip_static on;\n" : ""}${o.brotliStatic ? "    brotli_static on;\n" : ""}
    server {
${listen}        server_name _;
        root ${o.root};
        index index.html;

${headerLines("        ")}

${probe("/health", HEALTH_BODY)}

${probe("/ready", READY_BODY)}

        # Fingerprinted build output: cache for a year; a missing file is a real 404.
        location /assets/ {
${headerLines("            ", IMMUTABLE_CACHE_CONTROL)}
            try_files $uri =404;
        }

        location = /index.html {
${headerLines("            ", HTML_CACHE_CONTROL)}
        }

        # Files at the top level (favicon, robots.txt) are served; every other path is an SPA
        # route and gets index.html, which is never cached.
        location / {
${headerLines("            ", HTML_CACHE_CONTROL)}
            try_files $uri /index.html;
        }
    }
}
`;
}
