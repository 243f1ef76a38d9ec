// What a revoked or mistyped shared link shows (with a 404): no way into the rest of the dashboard.
export default function ShareNotFound() {
  return (
    <div className="empty" data-share-missing>
      <h1>This link does not open anything</h1>
      {/* its owner, an admin or the link's maker may have revoked it: the page cannot know who */}
      <p>This link was revoked, or it never existed. Ask whoever gave it to you for a new one.</p>
    </div>
  );
}
