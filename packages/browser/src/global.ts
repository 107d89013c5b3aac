// The script-tag build: <script src="xp.global.min.js"></script> defines window.xp.
export { createClient, XpBrowserClient, VERSION, evaluate, bucket } from './index';
