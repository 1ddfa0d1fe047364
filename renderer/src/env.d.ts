// Vite bundles the stylesheet imported by main.tsx into a CSS file of its own.
declare module '*.css';
