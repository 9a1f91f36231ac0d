// Public entry `ibaked/client`: the client of the ibaked daemon for media apps and SBC modules
// (connect to the Unix socket, `request(method, params)`, typed IpcError). The package's
// `exports` point here, so the internal layout can change without breaking integrators.
export { IbakedClient, IpcError } from '../client/ipc.js';
export { IbakedError } from '../util/errors.js';
