import Link from "next/link";

export default function NotFound() {
  return (
    <div className="empty">
      <h1>Not found</h1>
      <p>
        There is no such run or page. Back to the <Link href="/">runs list</Link>.
      </p>
    </div>
  );
}
