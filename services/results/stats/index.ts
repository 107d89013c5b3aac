/** Statistics core of the results service: pure functions over sufficient statistics. */
export * from './analysis';
export * from './bayesian';
export * from './decision';
export * from './distributions';
export * from './effects';
export * from './frequentist';
export * from './metrics';
export * from './multiple-testing';
export * from './power';
export * from './sequential';
export * from './srm';
