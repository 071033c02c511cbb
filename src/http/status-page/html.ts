/**
 * The status page's HTML shell: no data in it (the script fetches GET /v1/overview and renders
 * with textContent), no inline script or style (the CSP allows only this server's files).
 * URLs are relative, so the page also works behind a proxy that serves it under a path.
 */
import { VERSION } from '../../version.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>sendmux-deactivator · status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status.css">
<script src="status.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand">
    <h1>sendmux-deactivator</h1>
    <span class="version">v${escapeHtml(VERSION)}</span>
  </div>
  <nav>
    <a href="admin/queues">Queues dashboard</a>
    <a href="openapi.json">API (OpenAPI)</a>
  </nav>
  <div class="refresh"><span id="updated">loading…</span></div>
</header>
<section class="legend" aria-label="Legend">
  <span class="legend-title">Legend</span>
  <span class="badge ok">active</span> account on
  <span class="badge off">inactive</span> account off
  <span class="chip">manual</span> hold keeping it off
  <span class="badge bad">open</span> breaker tripped
  <span class="badge warn">half_open</span> breaker watching
  <span class="badge ok">closed</span> breaker normal
  <span class="badge warn">warning</span> a warning level crossed
  <span class="badge warn">would trip</span> the trip level crossed, mode warn
  <span class="badge bad">failed</span> action failed
  <span class="badge bad">still on</span> held, but its deactivation failed
  <span class="legend-note">Times in UTC</span>
</section>
<div id="notice" class="notice" role="status" hidden></div>
<main>
  <section id="summary" class="summary" aria-label="Summary"></section>
  <section class="panel">
    <h2>Breakers <small id="breakers-note"></small></h2>
    <div id="breakers"></div>
  </section>
  <section class="panel">
    <h2>Bulk runs <small id="batches-note"></small></h2>
    <div id="batches"></div>
  </section>
  <section class="panel">
    <h2>Held accounts <small id="held-note"></small></h2>
    <div id="held"></div>
  </section>
  <section class="panel">
    <h2>Accounts <small id="accounts-note"></small></h2>
    <div class="search">
      <input id="accounts-q" type="search" placeholder="Search by account id (part of it)" aria-label="Search accounts by id" autocomplete="off" spellcheck="false">
      <button id="accounts-prev" type="button" class="plain" disabled>&larr; Previous</button>
      <button id="accounts-next" type="button" class="plain" disabled>Next &rarr;</button>
    </div>
    <div id="accounts"></div>
  </section>
  <section class="panel">
    <h2>Maintenance windows <small id="windows-note"></small></h2>
    <h3>Running</h3>
    <div id="windows-running"></div>
    <h3>Upcoming</h3>
    <div id="windows-upcoming"></div>
  </section>
  <section class="panel">
    <h2>Recent failures <small id="failures-note"></small></h2>
    <div id="failures"></div>
    <h3>Window steps that left accounts in the wrong state</h3>
    <div id="window-failures"></div>
  </section>
  <section class="panel">
    <h2>Webhook events counted for no account <small id="webhooks-note"></small></h2>
    <h3>Ambiguous: several accounts could have sent them</h3>
    <div id="webhooks-ambiguous"></div>
    <h3>Unresolved: no account found</h3>
    <div id="webhooks-unresolved"></div>
  </section>
</main>
<footer>Refreshes every 5 seconds from <code>GET /v1/overview</code>, <code>GET /v1/batches</code> and <code>GET /v1/accounts</code>. Times are UTC, as the CLI prints them.</footer>
</body>
</html>
`;
