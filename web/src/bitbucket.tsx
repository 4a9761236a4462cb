// The Bitbucket tab (connect, who is connected, disconnect, then the synced workspaces of §13) and
// the banners that say what is wrong with the connection (CONTRACT §5: needsReauth, missingScopes).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { BitbucketStatusView, MeView } from '../../src/shapes';
import { api, startBitbucketInstall } from './api';
import { missingScopeSentence, NEEDS_REAUTH, NOT_CONFIGURED, OWNER_ONLY_DISCONNECT, SCOPE_NAMES } from './messages';
import { Confirm } from './modal';
import { Time } from './time';
import { toast, toastError } from './toasts';

let reasonIds = 0;

/** Connect / Reconnect: greyed out, with the reason beside it, when the operator has not configured the consumer. */
export function ConnectButton(props: { status: BitbucketStatusView | null; label?: string }) {
  const [busy, setBusy] = useState(false);
  const [reasonId] = useState(() => `connect-reason-${++reasonIds}`);
  const configured = props.status?.configured ?? false;
  const label = props.label ?? 'Connect Bitbucket →';
  return (
    <span class="connect">
      <button
        type="button"
        class="primary"
        disabled={!configured || busy}
        aria-describedby={props.status && !configured ? reasonId : undefined}
        onClick={async () => {
          setBusy(true);
          try {
            await startBitbucketInstall();
          } catch (err) {
            toastError(err);
            setBusy(false);
          }
        }}
      >
        {label}
      </button>
      {props.status && !configured && (
        <span id={reasonId} class="hint">
          {NOT_CONFIGURED}
        </span>
      )}
    </span>
  );
}

/** Shown above both tabs while the connection needs the user's attention. */
export function ConnectionBanners(props: { status: BitbucketStatusView | null }) {
  const s = props.status;
  if (!s?.connected) return null;
  const missing = s.missingScopes;
  return (
    <>
      {s.needsReauth && (
        <div class="banner banner-warning" role="status">
          <p>{NEEDS_REAUTH}</p>
          <ConnectButton status={s} label="Reconnect Bitbucket →" />
        </div>
      )}
      {missing.length > 0 && (
        <div class="banner banner-warning" role="status">
          {missing.map((scope) => (
            <p key={scope}>{missingScopeSentence(scope)}</p>
          ))}
          <p>
            Ask your operator to tick {missing.map((scope) => SCOPE_NAMES[scope]).join(', ')} on Lettuce's OAuth consumer, then reconnect.
          </p>
          {!s.needsReauth && <ConnectButton status={s} label="Reconnect Bitbucket →" />}
        </div>
      )}
    </>
  );
}

/** The tab: the connection's card, then `workspaces` (the synced workspaces' list). */
export function BitbucketPanel(props: { status: BitbucketStatusView | null; me: MeView | null; onChanged: () => void; workspaces?: ComponentChildren }) {
  return (
    <>
      <ConnectionCard status={props.status} me={props.me} onChanged={props.onChanged} />
      {props.status && props.workspaces}
    </>
  );
}

function ConnectionCard(props: { status: BitbucketStatusView | null; me: MeView | null; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const s = props.status;
  if (!s) return <p>Loading the Bitbucket connection…</p>;
  if (!s.connected) {
    return (
      <div class="card">
        <h2>Bitbucket</h2>
        <p>Connect Bitbucket to add repos from every workspace you belong to. Lettuce creates a webhook on each repo you add, so pushes refresh its index.</p>
        <ConnectButton status={s} />
      </div>
    );
  }
  const owner = props.me?.user.role === 'owner';
  return (
    <div class="card">
      <h2>Bitbucket</h2>
      <p>
        Connected as <strong>{s.bitbucketUser?.displayName || 'an unknown Bitbucket user'}</strong>
        {s.connectedAt && (
          <>
            {' '}
            since <Time iso={s.connectedAt} />
          </>
        )}
        .
      </p>
      {s.needsReauth && <p class="warning-text">{NEEDS_REAUTH}</p>}
      <div class="row-actions">
        {/* A new grant replaces the old one: after the operator changed the consumer's permissions, or for another Bitbucket user. */}
        <ConnectButton status={s} label="Reconnect Bitbucket →" />
        <button type="button" class="danger" disabled={!owner} aria-describedby={owner ? undefined : 'disconnect-reason'} onClick={() => setConfirming(true)}>
          Disconnect
        </button>
        {props.me && !owner && (
          <span id="disconnect-reason" class="hint">
            {OWNER_ONLY_DISCONNECT}
          </span>
        )}
      </div>
      {confirming && (
        <Confirm
          title="Disconnect Bitbucket?"
          text="Lettuce forgets its Bitbucket authorization. Your repos stay: public ones keep refreshing, private ones stop until you reconnect or switch them to a git URL with credentials."
          confirm="Disconnect"
          onConfirm={async () => {
            await api.disconnect();
            toast({ kind: 'success', text: 'Bitbucket disconnected' });
            props.onChanged();
          }}
          onClose={() => setConfirming(false)}
        />
      )}
    </div>
  );
}
