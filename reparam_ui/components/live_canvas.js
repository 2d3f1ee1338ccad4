// The Live VAE's live charts on one <canvas>: the loss chart (reparam_ui.figures.line_chart.line_chart_spec)
// and, below it, the model view, a row of square panels (reparam_ui.figures.vae.model_canvas).
// Streamlit (components v2) calls this function with new `data` on every training tick; the canvas
// stays mounted, so a redraw is 2D drawing instead of new plotly charts (docs/performance.md).

const LOSS_HEIGHT = 320;
const MARGIN = { l: 58, r: 14, t: 54, b: 42 }; // loss chart, px
const GAP = 14; // px between model panels
const TOP = 44; // px above the panels: title and panel titles
const BOTTOM = 16; // px below the panels: tick labels
const GRID = "rgba(128, 128, 128, 0.22)";

function decodeImage(heat) {
  const bytes = atob(heat.rgb);
  const img = new ImageData(heat.nx, heat.ny);
  for (let i = 0, j = 0; i < bytes.length; i += 3, j += 4) {
    img.data[j] = bytes.charCodeAt(i);
    img.data[j + 1] = bytes.charCodeAt(i + 1);
    img.data[j + 2] = bytes.charCodeAt(i + 2);
    img.data[j + 3] = 255;
  }
  const off = document.createElement("canvas");
  off.width = heat.nx;
  off.height = heat.ny;
  off.getContext("2d").putImageData(img, 0, 0);
  return off;
}

// One straight stroke from (x0, y0) to (x1, y1) in the current stroke style.
function segment(g, x0, y0, x1, y1) {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}

function drawLoss(g, L, width, text, font) {
  const left = MARGIN.l;
  const right = width - MARGIN.r;
  const bottom = LOSS_HEIGHT - MARGIN.b;
  g.font = `11px ${font}`;
  // legend rows under the title; the plot area starts below them
  const legend = [];
  let row = 0;
  let x = left;
  for (const ln of L.lines) {
    if (!ln.legend) continue;
    const w = 30 + g.measureText(ln.name).width;
    if (x + w > right && x > left) {
      row += 1;
      x = left;
    }
    legend.push([row, x, ln]);
    x += w;
  }
  const top = MARGIN.t + 15 * row;
  const [x0, x1] = L.x;
  const [y0, y1] = L.y;
  const px = (v) => left + ((v - x0) / (x1 - x0)) * (right - left);
  const py = (v) => bottom - ((v - y0) / (y1 - y0)) * (bottom - top);

  g.fillStyle = text;
  g.textAlign = "center";
  g.font = `14px ${font}`;
  g.fillText(L.title, width / 2, 18);
  g.font = `11px ${font}`;
  g.strokeStyle = GRID;
  g.lineWidth = 1;
  for (const [v, label] of L.yticks) {
    const y = Math.round(py(v)) + 0.5;
    segment(g, left, y, right, y);
    g.textAlign = "right";
    g.fillText(label, left - 6, y + 4);
  }
  g.textAlign = "center";
  for (const [v, label] of L.xticks) {
    const xx = Math.round(px(v)) + 0.5;
    segment(g, xx, top, xx, bottom);
    g.fillText(label, xx, bottom + 15);
  }
  g.strokeStyle = text;
  g.globalAlpha = 0.5;
  g.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);
  g.globalAlpha = 1;
  g.font = `12px ${font}`;
  if (L.xtitle) g.fillText(L.xtitle, (left + right) / 2, LOSS_HEIGHT - 6);
  if (L.ytitle) {
    g.save();
    g.translate(14, (top + bottom) / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(L.ytitle, 0, 0);
    g.restore();
  }

  g.save();
  g.beginPath();
  g.rect(left, top, right - left, bottom - top);
  g.clip();
  g.lineJoin = "round";
  for (const h of L.hlines) {
    g.strokeStyle = h.color;
    g.lineWidth = h.width;
    g.setLineDash(h.dash);
    segment(g, left, py(h.y), right, py(h.y));
  }
  for (const ln of L.lines) {
    g.strokeStyle = ln.color;
    g.lineWidth = ln.width;
    g.setLineDash(ln.dash);
    g.beginPath();
    let pen = false; // a null value breaks the line
    for (let i = 0; i < ln.x.length; i += 1) {
      if (ln.x[i] === null || ln.y[i] === null) {
        pen = false;
        continue;
      }
      if (pen) g.lineTo(px(ln.x[i]), py(ln.y[i]));
      else g.moveTo(px(ln.x[i]), py(ln.y[i]));
      pen = true;
    }
    g.stroke();
  }
  g.restore();
  g.setLineDash([]);

  g.fillStyle = text;
  g.font = `11px ${font}`;
  for (const a of L.labels) {
    const lx = left + a.x * (right - left);
    g.textAlign = { end: "right", start: "left" }[a.anchor] || "center";
    g.fillText(a.text, a.anchor === "end" ? lx - 4 : lx, py(a.y) + (a.below ? 12 : -4));
  }
  g.textAlign = "left";
  for (const [r, lx, ln] of legend) {
    const y = 38 + 15 * r;
    g.strokeStyle = ln.color;
    g.lineWidth = 2;
    g.setLineDash(ln.dash);
    segment(g, lx, y - 4, lx + 18, y - 4);
    g.setLineDash([]);
    g.fillText(ln.name, lx + 22, y);
  }
  if (L.empty) {
    g.textAlign = "center";
    g.font = `13px ${font}`;
    g.fillText("no data yet", (left + right) / 2, (top + bottom) / 2);
  }
}

function panelSize(M, width) {
  const n = M.panels.length;
  return Math.floor((width - GAP * (n - 1)) / n);
}

function drawModel(g, M, width, y0, text, font) {
  const size = panelSize(M, width);
  const top = y0 + TOP;
  g.fillStyle = text;
  g.textAlign = "center";
  g.font = `14px ${font}`;
  g.fillText(M.title, width / 2, y0 + 15);
  M.panels.forEach((p, i) => {
    const x0 = i * (size + GAP);
    const r = p.range;
    const sx = (v) => x0 + ((v + r) / (2 * r)) * size;
    const sy = (v) => top + ((r - v) / (2 * r)) * size;
    g.fillStyle = text;
    g.font = `12px ${font}`;
    g.fillText(p.title, x0 + size / 2, top - 8, size);
    g.font = `10px ${font}`;
    const label = String(Math.round(r * 10) / 10);
    g.fillText(`−${label}`, x0 + 8, top + size + 12);
    g.fillText("0", x0 + size / 2, top + size + 12);
    g.fillText(label, x0 + size - 8, top + size + 12);

    g.save();
    g.beginPath();
    g.rect(x0, top, size, size);
    g.clip();
    if (p.heat) {
      const [a, b, c, d] = p.heat.extent;
      g.imageSmoothingEnabled = false;
      g.drawImage(decodeImage(p.heat), sx(a), sy(d), sx(b) - sx(a), sy(c) - sy(d));
    }
    if (p.circle) {
      g.strokeStyle = "#7f7f7f";
      g.lineWidth = 1;
      g.setLineDash([2, 3]);
      g.beginPath();
      g.arc(sx(0), sy(0), (p.circle / (2 * r)) * size, 0, 2 * Math.PI);
      g.stroke();
      g.setLineDash([]);
    }
    if (p.x) {
      g.globalAlpha = 0.7;
      for (let j = 0; j < p.x.length; j += 1) {
        g.fillStyle = p.colors ? p.colors[j] : p.color;
        g.beginPath();
        g.arc(sx(p.x[j]), sy(p.y[j]), 2.2, 0, 2 * Math.PI);
        g.fill();
      }
      g.globalAlpha = 1;
    }
    g.restore();
    g.strokeStyle = text;
    g.lineWidth = 1;
    g.globalAlpha = 0.35;
    g.strokeRect(x0 + 0.5, top + 0.5, size - 1, size - 1);
    g.globalAlpha = 1;
  });
}

function draw(canvas, host, data) {
  const style = getComputedStyle(host);
  const text = style.color; // follows the app's light or dark theme
  const font = style.fontFamily;
  const width = Math.max(320, host.clientWidth || 860);
  const gap = data.loss && data.model ? 16 : 0;
  const modelHeight = data.model ? TOP + panelSize(data.model, width) + BOTTOM : 0;
  const height = (data.loss ? LOSS_HEIGHT : 0) + gap + modelHeight;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const labels = [];
  if (data.loss) {
    drawLoss(g, data.loss, width, text, font);
    canvas.dataset.lastX = data.loss.empty ? "0" : String(data.loss.x[1]);
    labels.push(data.loss.title);
  }
  if (data.model) {
    drawModel(g, data.model, width, data.loss ? LOSS_HEIGHT + gap : 0, text, font);
    canvas.dataset.step = String(data.model.step);
    labels.push(data.model.title);
  }
  canvas.setAttribute("aria-label", labels.join(". "));
}

export default function ({ data: bytes, parentElement }) {
  const data = JSON.parse(new TextDecoder().decode(bytes)); // UTF-8 JSON from live_canvas.py
  let canvas = parentElement.querySelector("canvas");
  const host = parentElement.host || parentElement;
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.style.display = "block";
    parentElement.appendChild(canvas);
    // a resized page redraws the last data (no new data arrives while paused)
    new ResizeObserver(() => canvas.__data && draw(canvas, host, canvas.__data)).observe(host);
  }
  canvas.__data = data;
  draw(canvas, host, data);
}
