import Link from "next/link";
import TopBar from "./_components/TopBar";

export default function NotFound() {
  return (
    <>
      <TopBar />
      <main>
        <div className="empty">
          <h1>Not found</h1>
          <p>
            There is no such run or page. Back to the <Link href="/">runs list</Link>.
          </p>
        </div>
      </main>
    </>
  );
}
