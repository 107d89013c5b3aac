// Moved: the JavaScript SDK is now the @xp-platform/node package (packages/node), on the
// shared runtime @xp-platform/sdk-core. This module keeps old imports working.
export { XpNodeClient as XpClient, type XpNodeOptions as XpClientOptions } from '@xp-platform/node';
