/**
 * The local stack: everything trienkhai does to bring up real servers by itself on a fresh machine.
 */
export * from './ports';
export * from './temporal-binaries';
export * from './temporal-server';
export * from './postgres';
export * from './process';
