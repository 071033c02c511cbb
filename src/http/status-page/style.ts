/** The status page's stylesheet (served as /status.css). */
export const STATUS_CSS = `
:root {
  --fg: #1d2330;
  --muted: #667085;
  --line: #e4e7ec;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --accent: #2557d6;
  --ok-bg: #e3f5e9; --ok-fg: #146c2e;
  --off-bg: #eceef2; --off-fg: #3f4756;
  --warn-bg: #fff3d6; --warn-fg: #8a5a00;
  --bad-bg: #fde7e7; --bad-fg: #a1232b;
}
* { box-sizing: border-box; }
html { font-size: 14px; }
body {
  margin: 0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg);
  background: var(--bg);
  line-height: 1.45;
}
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }

header.top {
  display: flex; align-items: center; gap: 24px; flex-wrap: wrap;
  padding: 12px 24px; background: #18202f; color: #fff;
}
header.top .brand { display: flex; align-items: baseline; gap: 8px; }
header.top h1 { margin: 0; font-size: 1.3rem; font-weight: 600; letter-spacing: 0.2px; }
header.top .version { color: #aab4c5; font-size: 0.85rem; }
header.top nav { display: flex; gap: 16px; }
header.top nav a { color: #c9d5ff; }
header.top .refresh { margin-left: auto; color: #aab4c5; font-size: 0.9rem; }

.legend {
  display: flex; align-items: center; flex-wrap: wrap; gap: 6px 8px;
  padding: 8px 24px; background: var(--panel); border-bottom: 1px solid var(--line);
  color: var(--muted); font-size: 0.88rem;
}
.legend-title { font-weight: 600; color: var(--fg); margin-right: 4px; }
.legend .badge, .legend .chip { margin-left: 8px; }

.notice {
  margin: 16px 24px 0; padding: 10px 14px; border-radius: 6px;
  background: var(--warn-bg); color: var(--warn-fg); border: 1px solid #f3d58a;
}
.notice.error { background: var(--bad-bg); color: var(--bad-fg); border-color: #f3b4b8; }
.notice.ok { background: var(--ok-bg); color: var(--ok-fg); border-color: #a9dcb9; }

main { padding: 16px 24px 8px; display: grid; gap: 16px; }

.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .n { font-size: 1.6rem; font-weight: 600; }
.card .label { color: var(--muted); font-size: 0.85rem; }
.card.bad .n { color: var(--bad-fg); }
.card.warn .n { color: var(--warn-fg); }

.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 14px; overflow-x: auto; }
.panel h2 { margin: 0 0 8px; font-size: 1.1rem; }
.panel h2 small { font-weight: 400; color: var(--muted); font-size: 0.85rem; margin-left: 6px; }
.panel h3 { margin: 12px 0 6px; font-size: 0.95rem; color: var(--muted); font-weight: 600; }

table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.4px; color: var(--muted); font-weight: 600; background: #fafbfc; }
tbody tr:nth-child(even) td { background: #fcfcfd; }
tbody tr:hover td { background: #f2f5fb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); padding: 6px 2px; }
.sub { display: block; color: var(--muted); font-size: 0.85em; }
.when { white-space: nowrap; }
.msg { max-width: 460px; overflow-wrap: anywhere; }

.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px;
  font-size: 0.8rem; font-weight: 600; white-space: nowrap;
}
.badge.ok { background: var(--ok-bg); color: var(--ok-fg); }
.badge.off { background: var(--off-bg); color: var(--off-fg); }
.badge.warn { background: var(--warn-bg); color: var(--warn-fg); }
.badge.bad { background: var(--bad-bg); color: var(--bad-fg); }
.chip {
  display: inline-block; margin: 0 4px 2px 0; padding: 0 6px; border-radius: 4px;
  border: 1px solid #d0d5dd; background: #f9fafb; font-size: 0.8rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}

button {
  font: inherit; font-size: 0.85rem; padding: 3px 12px; border-radius: 6px; cursor: pointer;
  border: 1px solid #c0392b; background: #fff; color: #a1232b;
}
button:hover { background: var(--bad-bg); }
button:disabled { opacity: 0.5; cursor: default; }

.legend-note { margin-left: auto; font-weight: 600; color: var(--fg); }
.search { display: flex; gap: 8px; align-items: center; margin: 0 0 8px; }
.search input {
  flex: 1; max-width: 420px; font: inherit; padding: 4px 10px;
  border: 1px solid #d0d5dd; border-radius: 6px;
}
button.plain { border-color: #d0d5dd; color: var(--fg); }
button.plain:hover { background: #f2f5fb; }
.bar { display: block; width: 120px; height: 6px; margin: 3px 0 2px auto; background: var(--line); border-radius: 3px; overflow: hidden; }
.bar .fill { display: block; height: 100%; background: var(--accent); }

footer { padding: 8px 24px 20px; color: var(--muted); font-size: 0.85rem; }
`;
