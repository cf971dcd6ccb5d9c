import { connect as tcpConnect } from 'node:net';

/**
 * What a nats-server says to a client that connects without credentials: its INFO, then the
 * CONNECT's answer, read until the server closes. A raw socket, because nats.js reports whichever
 * comes first, the -ERR or the EPIPE of writing to the socket the server has just closed.
 */
export function replyWithoutCredentials(server: string): Promise<string> {
  const { hostname, port } = new URL(server.includes('://') ? server : `nats://${server}`);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = tcpConnect(Number(port), hostname);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no close from ${server} in 5 s; got ${JSON.stringify(text)}`))), 5000);
    socket.on('data', (d) => {
      if (!text) socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
      text += d.toString();
    });
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server has closed
    socket.on('close', () => (clearTimeout(timer), resolve(text)));
  });
}
