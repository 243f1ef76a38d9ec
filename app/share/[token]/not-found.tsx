// What a revoked or mistyped shared link shows (with a 404): no way into the rest of the dashboard.
export default function ShareNotFound() {
  return (
    <div className="empty" data-share-missing>
      <h1>This link does not open anything</h1>
      <p>It was revoked by the run&apos;s owner, or it never existed. Ask them for a new one.</p>
    </div>
  );
}
