/** The ceiling: a bare Deno.serve answering a canned 201, reached through the same gateway. */
const body = JSON.stringify({
  data: {
    id: "a1b2c3d4-1111-2222-3333-444455556666",
    target_url: "https://example.com/wundertre/webhook",
    event_types: ["contact.created", "contact.tag_added"],
    secret: "8f3c2a1d9e7b4f6a5c2d1e0f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
    enabled: true,
    description: "Sync new leads to internal CRM",
    created_at: "2026-05-17T14:30:00Z",
  },
});

Deno.serve(async (request) => {
  await request.arrayBuffer();
  return new Response(body, { status: 201, headers: { "Content-Type": "application/json" } });
});
