const root = document.getElementById("root");
const render = () => {
  root.textContent = location.pathname === "/" ? "Monkeytown" : `Monkeytown: ${location.pathname}`;
};
addEventListener("popstate", render);
render();
