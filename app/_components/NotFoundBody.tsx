import Link from "next/link";

/** What an unknown run or page shows, under whichever top bar is already there. */
export default function NotFoundBody() {
  return (
    <div className="empty" data-not-found>
      <h1>Not found</h1>
      <p>
        There is no such run or page. Back to the <Link href="/">runs list</Link>.
      </p>
    </div>
  );
}
