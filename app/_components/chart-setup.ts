"use client";

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";

// chart.js is tree-shaken: register exactly what the charts use, once per page load.
Chart.register(
  LineController,
  ScatterController,
  BarController,
  LineElement,
  PointElement,
  BarElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  Filler,
  Tooltip,
);
Chart.defaults.font.family = "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif";
Chart.defaults.font.size = 11;
Chart.defaults.color = "#5b6472";

export { Chart };

/** Distinct line colours (Tableau 10 without its red, which marks NaN/Inf). */
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#5d4bd1", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
