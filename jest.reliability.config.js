// npm run test:reliability: faults, load and hostile input (issue 7). The same transform and
// database setup as the e2e suites; one suite at a time, because several start server processes
// or stop a PostgreSQL of their own and would measure each other otherwise.
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
  maxWorkers: 1,
  testTimeout: 300000,
};
