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

function forwardHeaders(headers: Headers, forwardedFor?: string): Headers {
  const out = new Headers();
  // append, not set: a response may carry several Set-Cookie headers.
  for (const [name, value] of headers) if (!HOP_HEADERS.has(name)) out.append(name, value);
  // The one address this hop vouches for replaces whatever the client claimed.
  if (forwardedFor !== undefined) out.set("x-forwarded-for", forwardedFor);
  return out;
}

/**
 * Answers a request through the SocketPeer listener at 127.0.0.1:`port`.
 *
 * @param request The incoming request.
 * @param port The port SocketPeer's HTTP server listens on.
 * @param forwardedFor The client's address, sent on as `X-Forwarded-For`.
 * @returns The response (a 101 for a WebSocket upgrade).
 *
 * @example
 * ```ts
 * Deno.serve((req) => fetchThrough(req, peers.port));
 * ```
 */
export async function fetchThrough(
  request: Request,
  port: number,
  forwardedFor?: string,
): Promise<Response> {
  const url = new URL(request.url);
  const target = `127.0.0.1:${port}${url.pathname}${url.search}`;
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    return await bridgeWebSocket(request, `ws://${target}`, forwardedFor);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const response = await fetch(`http://${target}`, {
    method: request.method,
    headers: forwardHeaders(request.headers, forwardedFor),
    body: hasBody ? await request.arrayBuffer() : undefined,
    redirect: "manual",
  });
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: forwardHeaders(response.headers),
  });
}

type Message = string | ArrayBuffer;

/** Resolves once `socket` opens, or with the HTTP status that refused it (502 when unknown). */
function opened(socket: WebSocket): Promise<number | null> {
  return new Promise((resolve) => {
    socket.onopen = () => resolve(null);
    socket.onerror = (event) => {
      const status = /status code:? (\d{3})/i.exec((event as ErrorEvent).message ?? "");
      resolve(status ? Number(status[1]) : 502);
    };
  });
}

/**
 * Opens the upstream WebSocket first and upgrades the client only once it is
 * open, so a refusal (a foreign origin, an unknown session) reaches the client
 * as an HTTP status, as it would without the bridge, instead of as a socket
 * that opens and closes at once.
 */
async function bridgeWebSocket(
  request: Request,
  target: string,
  forwardedFor?: string,
): Promise<Response> {
  // The request's headers cannot be read once it is upgraded.
  const headers = forwardHeaders(request.headers, forwardedFor);
  headers.delete("sec-websocket-protocol");
  const upstream = new WebSocket(target, {
    headers: Object.fromEntries(headers),
  } as unknown as string[]);
  upstream.binaryType = "arraybuffer";
  // engine.io speaks first (its open packet): keep what comes before the client is open.
  const toClient: Message[] = [];
  upstream.onmessage = (event) => toClient.push(event.data);
  const refusal = await opened(upstream);
  if (refusal !== null) {
    return new Response("SocketPeer refused the WebSocket upgrade", {
      status: refusal,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }

  let client: WebSocket;
  let response: Response;
  try {
    ({ socket: client, response } = Deno.upgradeWebSocket(request));
  } catch (err) {
    upstream.close();
    throw err;
  }
  client.binaryType = "arraybuffer";
  let closing = false;
  const closeBoth = () => {
    closing = true;
    // A server-side socket still connecting is closed once it opens.
    if (client.readyState === WebSocket.OPEN) client.close();
    if (upstream.readyState < WebSocket.CLOSING) upstream.close();
  };
  client.onopen = () => {
    if (closing) {
      client.close();
      return;
    }
    for (const message of toClient.splice(0)) client.send(message);
  };
  upstream.onmessage = (event) => {
    if (client.readyState === WebSocket.OPEN && toClient.length === 0) client.send(event.data);
    else toClient.push(event.data);
  };
  client.onmessage = (event) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(event.data);
  };
  client.onclose = closeBoth;
  client.onerror = closeBoth;
  upstream.onclose = closeBoth;
  upstream.onerror = closeBoth;
  return response;
}
