/** The SMB2/3 wire codec: pure encoders and decoders, no connection state. */
export * from './buffer.js';
export * from './constants.js';
export * from './header.js';
export * from './transform.js';
export * from './ntstatus.js';
export * from './error-response.js';
export * from './negotiate-contexts.js';
export * from './negotiate.js';
export * from './session-setup.js';
export * from './logoff.js';
export * from './tree-connect.js';
export * from './tree-disconnect.js';
export * from './echo.js';
export * from './cancel.js';
export * from './ioctl.js';
