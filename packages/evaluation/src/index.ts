// The evaluation core's public API, shared by the registry server and SDKs.

export type * from './model';
export { OPERATORS } from './model';
export {
  evaluate,
  splitSalt,
  type EvaluateOptions,
  type EvaluationErrorCode,
  type EvaluationReason,
  type EvaluationResult,
  type ExperimentAssignment,
} from './evaluate';
export { bucket, hashString, murmur3 } from './hash';
export {
  attributeOf,
  isUsableRegex,
  matchesCondition,
  matchesConditions,
  matchesSegment,
  MAX_REGEX_PATTERN_LENGTH,
  MAX_REGEX_SUBJECT_LENGTH,
} from './conditions';
export { compareSemver, parseSemver, type SemVer } from './semver';
