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
  /** Folder holding the SPA build (`index.html`, `assets/`). @default "/usr/share/nginx/html" */
  readonly root?: string;
  /** The only writable folder nginx needs (pid file, temp files). @default "/tmp/nginx" */
  readonly runDir?: string;
  /** `worker_processes`. @default "auto" */
  readonly workerProcesses?: number | "auto";
  /** Smallest response (bytes) that gzip compresses. @default 1024 */
  readonly gzipMinLength?: number;
  /** Serve `*.gz` files next to assets when present (`gzip_static`). @default true */
  readonly gzipStatic?: boolean;
  /** Where access logs go; JSON lines. @default "/dev/stdout" */
  readonly accessLog?: string;
  /** Where error logs go. @default "/dev/stderr" */
  readonly errorLog?: string;
}

/** Resolved options: what the config is rendered from. */
export type ResolvedNginxConfig = Required<NginxConfigOptions>;

export const NGINX_DEFAULTS: ResolvedNginxConfig = {
  port: 8080,
  root: "/usr/share/nginx/html",
  runDir: "/tmp/nginx",
  workerProcesses: "auto",
  gzipMinLength: 1024,
  gzipStatic: true,
  accessLog: "/dev/stdout",
  errorLog: "/dev/stderr",
};

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
  ] as const) {
    if (!value.startsWith("/") || /[\s;{}]/.test(value)) {
      problems.push(`${key} (${JSON.stringify(value)}) must be an absolute path without spaces, ';' or braces.`);
    }
  }
  if (!Number.isInteger(o.gzipMinLength) || o.gzipMinLength < 0) {
    problems.push(`gzipMinLength (${o.gzipMinLength}) must be a non-negative integer number of bytes.`);
  }
  return problems;
}

function headerLines(indent: string, extra: Record<string, string> = {}): string {
  const all = { ...SECURITY_HEADERS, ...extra };
  return Object.entries(all)
    .map(([name, value]) => `${indent}add_header ${name} "${value}" always;`)
    .join("\n");
}

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
  // add_header in a location replaces the server-level ones, so each location repeats them.
  return `# Rendered by components/web/nginx.ts: do not edit by hand.
worker_processes ${o.workerProcesses};
pid ${run}/nginx.pid;
error_log ${o.errorLog} warn;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;

    # Non-root, read-only root filesystem: every temp path lives under ${run}.
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;

    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;

    log_format json_combined escape=json '{'
        '"time":"$time_iso8601",'
        '"remote_addr":"$remote_addr",'
        '"method":"$request_method",'
        '"uri":"$request_uri",'
        '"status":$status,'
        '"body_bytes_sent":$body_bytes_sent,'
        '"request_time":$request_time,'
        '"referer":"$http_referer",'
        '"user_agent":"$http_user_agent"'
    '}';
    access_log ${o.accessLog} json_combined;

    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 6;
    gzip_min_length ${o.gzipMinLength};
    gzip_types ${GZIP_TYPES.join(" ")};
${o.gzipStatic ? "    gzip_static on;\n" : ""}
    server {
        listen ${o.port};
        listen [::]:${o.port};
        server_name _;
        root ${o.root};
        index index.html;

${headerLines("        ")}

        location = /health {
            access_log off;
            default_type application/json;
            return 200 '${HEALTH_BODY}';
        }

        location = /ready {
            access_log off;
            default_type application/json;
            return 200 '${READY_BODY}';
        }

        # Fingerprinted build output: cache for a year; a missing file is a real 404.
        location /assets/ {
${headerLines("            ", { "Cache-Control": "public, max-age=31536000, immutable" })}
            try_files $uri =404;
        }

        location = /index.html {
${headerLines("            ", { "Cache-Control": "no-cache" })}
        }

        # SPA routes fall back to index.html, which is never cached.
        location / {
${headerLines("            ", { "Cache-Control": "no-cache" })}
            try_files $uri $uri/ /index.html;
        }
    }
}
`;
}
