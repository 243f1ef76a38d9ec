export default function Home() {
  return <div>babysit</div>;
}
