import { failureMessage } from './failure-message';

const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });

describe('failureMessage', () => {
  it('names both addresses of a refused localhost, whose AggregateError has no message', () => {
    const error = new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')], '');
    expect(failureMessage(error)).toBe('cannot connect to the database: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('calls a refusal by the server or a pooler before the session a connection failure', () => {
    const error = Object.assign(new Error('unsupported startup parameter: statement_timeout'), { code: '08P01' });
    expect(failureMessage(error)).toBe('cannot connect to the database: unsupported startup parameter: statement_timeout');
  });

  it('leaves other failures as they are, and says something even without a message', () => {
    expect(failureMessage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe('duplicate key');
    expect(failureMessage(Object.assign(new Error(''), { code: 'EACCES' }))).toBe('EACCES');
    expect(failureMessage(undefined)).toBe('undefined');
  });

  it('never repeats the password of a database URL', () => {
    const url = 'postgres://crm:p%40ss-w0rd@db:5432/crm';
    expect(failureMessage(new Error('could not use p@ss-w0rd'), [undefined, url, 'not a url'])).toBe('could not use ***');
  });
});
