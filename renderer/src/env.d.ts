// Vite bundles the stylesheet imported by boot.ts into a CSS file of its own.
declare module '*.css';
