// A plotly chart that updates in place. Streamlit's own chart element gets a new identity whenever
// its figure changes, so the browser rebuilds it (Plotly.newPlot); this element stays mounted and
// hands each new figure to Plotly.react, which redraws only what changed. `loadPlotly()` (prepended
// by plot_element.py) imports the plotly.js that Streamlit ships, once per page.

const CONFIG = { displaylogo: false };

export default function ({ data: bytes, parentElement }) {
  const figure = JSON.parse(new TextDecoder().decode(bytes)); // plotly JSON from plot_element.py
  const gd = parentElement.querySelector("div.rl-plot"); // from the component's html
  gd.style.minHeight = `${figure.layout?.height ?? 450}px`; // no jump while plotly.js loads
  figure.config = CONFIG;
  // one draw at a time, and only of the newest figure (one that arrives while another is drawn,
  // or while plotly.js loads, replaces any still waiting); data-drawing is set while a draw is
  // queued or running (tests and benches wait for it to go)
  gd.__latest = figure;
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
  if (!gd.__resize) {
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
    gd.__resize.observe(parentElement.host || parentElement);
  }
  return () => {
    gd.__resize?.disconnect();
    window.Plotly?.purge(gd);
  };
}
