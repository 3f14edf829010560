/** The fields a PATCH body set (undefined means "not given"; null is kept, to clear a nullable column). */
export function givenFields<T extends object>(dto: T): Partial<T> {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as Partial<T>;
}
