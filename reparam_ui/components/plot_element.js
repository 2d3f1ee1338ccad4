// A plotly chart that updates in place. Streamlit's own chart element gets a new identity whenever
// its figure changes, so the browser rebuilds it (Plotly.newPlot); this element stays mounted and
// hands each new figure to Plotly.react, which redraws only what changed. `loadPlotly()` (prepended
// by plot_element.py) loads plotly.js once per page.

const CONFIG = { displaylogo: false };
// A chart that was drawn and is now far off screen (e.g. the Monte Carlo histograms while the
// set-up is being changed at the top of the page) is not redrawn on each change: it keeps the
// newest figure and draws it once it comes within AHEAD of the visible area: a slider change
// would otherwise wait for its redraw (bench/run.py: rerun_latency_ratio; docs/performance.md).
const AHEAD = 300; // px

function draw(gd, figure) {
  // one draw at a time, and only of the newest figure (one that arrives while another is drawn,
  // or while plotly.js loads, replaces any still waiting); data-drawing is set while a draw is
  // queued or running (tests and benches wait for it to go)
  gd.__pending = (gd.__pending || 0) + 1;
  gd.setAttribute("data-drawing", "");
  gd.__queue = (gd.__queue || Promise.resolve())
    .then(loadPlotly)
    .then((Plotly) => gd.__latest === figure && Plotly.react(gd, figure))
    .catch((err) => {
      gd.textContent = `The chart could not be drawn: ${err}`;
    })
    .finally(() => {
      gd.__pending -= 1;
      if (gd.__pending === 0) gd.removeAttribute("data-drawing");
    });
}

function scroller(el) {
  // the element that scrolls the page (Streamlit: the main area), or null for the viewport
  for (let e = el.parentElement; e; e = e.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(e).overflowY)) return e;
  }
  return null;
}

function watch(gd, host) {
  // on screen or not (within AHEAD); draws a deferred figure when it comes near
  gd.__onScreen = true; // until the first observation
  gd.__visibility = new IntersectionObserver(
    ([entry]) => {
      gd.__onScreen = entry.isIntersecting;
      if (gd.__onScreen && gd.hasAttribute("data-deferred")) {
        gd.removeAttribute("data-deferred");
        draw(gd, gd.__latest);
      }
    },
    { root: scroller(host), rootMargin: `${AHEAD}px 0px` },
  );
  gd.__visibility.observe(gd);
  // the chart follows its column's width (window resize, sidebar opened or closed)
  let frame = 0;
  let width = null;
  gd.__resize = new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    const changed = width !== null && w !== width; // the first call only records the width
    width = w;
    if (!changed) return;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => gd._fullLayout && window.Plotly.Plots.resize(gd));
  });
  gd.__resize.observe(host);
}

export default function ({ data: bytes, parentElement }) {
  const figure = JSON.parse(new TextDecoder().decode(bytes)); // plotly JSON from plot_element.py
  const gd = parentElement.querySelector("div.rl-plot"); // from the component's html
  gd.style.minHeight = `${figure.layout?.height ?? 450}px`; // no jump while plotly.js loads
  figure.config = CONFIG;
  gd.__latest = figure;
  if (!gd.__resize) watch(gd, parentElement.host || parentElement);
  if (gd._fullLayout && !gd.__onScreen) {
    gd.setAttribute("data-deferred", ""); // drawn when it comes near (watch)
  } else {
    draw(gd, figure);
  }
  return () => {
    gd.__visibility?.disconnect();
    gd.__resize?.disconnect();
    gd.__resize = null;
    window.Plotly?.purge(gd);
  };
}
