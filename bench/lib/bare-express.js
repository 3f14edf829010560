// The floor scenario 5 compares the API with: a bare Express app, with nothing but the API's own
// request logger (the same pino-http options, src/common/http/request-logging.ts), that answers
// every request as the API answers an unknown route: 404 and the error envelope.
const { randomUUID } = require('node:crypto');
const express = require('express');
const { pinoHttp } = require('pino-http');
const { requestLoggingOptions } = require('../../dist/src/common/http/request-logging');

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use((req, res, next) => {
  req.id = randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
});
app.use(pinoHttp(requestLoggingOptions(process.env.LOG_LEVEL ?? 'info')));
app.use((_req, res) => res.status(404).json({ errorCode: 'NotFound', errorMessage: '요청한 경로를 찾을 수 없습니다.' }));
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('listening'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
