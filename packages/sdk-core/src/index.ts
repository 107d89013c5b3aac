// The platform-neutral runtime of the xp SDKs (web-standard globals only).
export { XpClient, XpTimeoutError, type EvaluateOptions, type XpClientOptions, type XpEvent } from './client';
export { EventQueue, type CollectorEvent, type EventInput, type EventQueueOptions } from './events';
export { ExposureLog } from './exposure-log';
export { basicAuth, uuid } from './ids';
export { changedFlags, isPayload, type Payload } from './payload';
export { readEventStream, SseParser, type SseMessage } from './sse';
export * from '@xp-platform/evaluation';
export {
  experimentFromMetadata,
  OpenFeatureBinding,
  toResolution,
  toXpContext,
  type OpenFeatureType,
  type Resolution,
} from './openfeature';
