// The user's API token, for this browser tab only (sessionStorage): the one credential the UI
// holds. Nothing else is ever stored, and the token never goes into a URL.
const KEY = 'lettuce.apiToken';

export const session = {
  token: (): string | null => sessionStorage.getItem(KEY),
  signIn: (token: string): void => sessionStorage.setItem(KEY, token),
  signOut: (): void => sessionStorage.removeItem(KEY),
};
