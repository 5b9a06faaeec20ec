export * from './kst-day.js';
