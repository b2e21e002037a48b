// The bench's baseline: what one-row ingest costs on this runtime with no validation, rollups or auth.
const INSERT = `INSERT INTO events (event_id, app_id, event_name, session_id, user_id, ts, received_at, properties)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

function json(status, payload) {
  return new Response(JSON.stringify(payload), { status, headers: { "content-type": "application/json" } });
}

// D1 rejects `undefined` binds: absent fields become NULL.
function field(value) {
  return value === undefined ? null : value;
}

async function track(request, env) {
  let event;
  try {
    event = await request.json();
  } catch {
    return json(400, { success: false, error: "request body is not valid JSON", details: [] });
  }
  const now = Date.now();
  const ts = typeof event.timestamp === "number" ? Math.round(event.timestamp * 1000) : now;
  const properties = event.properties === undefined ? null : JSON.stringify(event.properties);
  await env.DB.prepare(INSERT)
    .bind(field(event.event_id), field(event.app_id), field(event.event), field(event.session_id),
      field(event.user_id), ts, now, properties)
    .run();
  return json(200, { success: true });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/track") return track(request, env);
    if (request.method === "GET" && pathname === "/health") return json(200, { status: "ok" });
    return json(404, { success: false, error: `no route for ${pathname}`, details: [] });
  },
};
