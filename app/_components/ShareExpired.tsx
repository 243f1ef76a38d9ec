// What an expired shared link shows: no way into the rest of the dashboard.
export function ShareExpired() {
  return (
    <div className="empty" data-share-expired>
      <h1>This link has expired</h1>
      <p>The run&apos;s owner made it for a limited time. Ask them for a new one.</p>
    </div>
  );
}
