/**
 * Lets a fetch-style app (`Deno.serve`, Hono, Oak, Fresh) share its port with
 * SocketPeer: a request is passed to the SocketPeer server's own listener on
 * loopback, and a WebSocket upgrade is bridged message by message. socket.io
 * needs `node:http`; this bridge is the price of one port.
 *
 * @module
 */

/** Headers that describe one hop and must not be copied to the next. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-accept",
]);

function forwardHeaders(headers: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of headers) if (!HOP_HEADERS.has(name)) out.set(name, value);
  return out;
}

/**
 * Answers a request through the SocketPeer listener at 127.0.0.1:`port`.
 *
 * @param request The incoming request.
 * @param port The port SocketPeer's HTTP server listens on.
 * @returns The response (a 101 for a WebSocket upgrade).
 *
 * @example
 * ```ts
 * Deno.serve((req) => fetchThrough(req, peers.port));
 * ```
 */
export async function fetchThrough(request: Request, port: number): Promise<Response> {
  const url = new URL(request.url);
  const target = `127.0.0.1:${port}${url.pathname}${url.search}`;
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    return bridgeWebSocket(request, `ws://${target}`);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const response = await fetch(`http://${target}`, {
    method: request.method,
    headers: forwardHeaders(request.headers),
    body: hasBody ? await request.arrayBuffer() : undefined,
    redirect: "manual",
  });
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: forwardHeaders(response.headers),
  });
}

function bridgeWebSocket(request: Request, target: string): Response {
  const { socket: client, response } = Deno.upgradeWebSocket(request);
  client.binaryType = "arraybuffer";
  const headers: Record<string, string> = {};
  const origin = request.headers.get("origin");
  if (origin) headers.origin = origin;
  const upstream = new WebSocket(target, { headers } as unknown as string[]);
  upstream.binaryType = "arraybuffer";
  const early: (string | ArrayBuffer)[] = [];
  client.onmessage = (event) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(event.data);
    else early.push(event.data);
  };
  upstream.onopen = () => {
    for (const message of early.splice(0)) upstream.send(message);
  };
  upstream.onmessage = (event) => {
    if (client.readyState === WebSocket.OPEN) client.send(event.data);
  };
  const closeBoth = () => {
    if (client.readyState < WebSocket.CLOSING) client.close();
    if (upstream.readyState < WebSocket.CLOSING) upstream.close();
  };
  client.onclose = closeBoth;
  client.onerror = closeBoth;
  upstream.onclose = closeBoth;
  upstream.onerror = closeBoth;
  return response;
}
