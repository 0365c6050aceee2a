// The placeholder single-page app: client-side routes, the API's status over REST (/api/v1) and a
// live WebSocket (/ws) to the API, enough to exercise every path the web tier and the Ingress
// serve. The real React build replaces this directory (fingerprinted files under /assets/).
const root = document.getElementById("root");
const state = { route: location.pathname, api: "checking…", socket: "connecting…", echoes: 0 };

function render() {
  const title = state.route === "/" ? "Monkeytown" : `Monkeytown: ${state.route}`;
  root.replaceChildren(
    Object.assign(document.createElement("h1"), { textContent: title }),
    Object.assign(document.createElement("p"), { textContent: `API: ${state.api}` }),
    Object.assign(document.createElement("p"), {
      textContent: `Live connection: ${state.socket} (${state.echoes} echoes)`,
    }),
  );
}

// Client-side navigation: links inside the app change the route without a page load.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='/']");
  if (!link) return;
  event.preventDefault();
  history.pushState(null, "", link.getAttribute("href"));
  state.route = location.pathname;
  render();
});
addEventListener("popstate", () => {
  state.route = location.pathname;
  render();
});

async function checkApi() {
  try {
    const res = await fetch("/api/v1/status", { headers: { accept: "application/json" } });
    const body = await res.json();
    state.api = res.ok ? `${body.status} (up ${body.uptimeSeconds} s)` : `error ${res.status}`;
  } catch (err) {
    state.api = `unreachable (${err.message})`;
  }
  render();
}

function connect(attempt = 0) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("open", () => {
    state.socket = "open";
    attempt = 0;
    socket.send(JSON.stringify({ type: "hello", at: Date.now() }));
    render();
  });
  socket.addEventListener("message", () => {
    state.echoes += 1;
    render();
  });
  // A deploy closes sockets with 1001 "going away": reconnect (to another pod) with back-off.
  socket.addEventListener("close", () => {
    state.socket = "reconnecting…";
    render();
    setTimeout(() => connect(attempt + 1), Math.min(30_000, 500 * 2 ** attempt));
  });
}

render();
checkApi();
setInterval(checkApi, 30_000);
connect();
