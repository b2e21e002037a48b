"""GET /script.js: a web snippet (no dependency, under 2 KB) that sends through the Aptabase protocol.

    <script defer src="https://YOUR-WORKER/script.js" data-app-key="A-SH-##########"></script>

It sends a `page_view` (the path only: no query string, no fragment, no referrer) on load, and
`oddlytics.track(name, props)` sends custom events, each a `fetch` with `keepalive` (so it survives the page
being left) to the worker it was loaded from, with the App-Key. No cookie: the session id lives in
`sessionStorage` (the tab) and is renewed after an hour without events. `data-debug` (or a page on localhost)
marks the events as a debug build's; `data-app-version` sets the app version.
"""
from api.web import Response

SCRIPT = """(function(){var s=document.currentScript,k=s&&s.getAttribute("data-app-key");if(!k)return;
var h=new URL(s.src).origin,d=s.hasAttribute("data-debug")||location.hostname=="localhost",K="oddlytics_session";
function sid(){var n=Date.now(),v;try{v=JSON.parse(sessionStorage.getItem(K))}catch(e){}
if(!v||!v.id||n-v.t>36e5)v={id:Math.floor(n/1e3)+String(Math.floor(Math.random()*1e8)).padStart(8,"0")};
v.t=n;try{sessionStorage.setItem(K,JSON.stringify(v))}catch(e){}return v.id}
function track(name,props){return fetch(h+"/api/v0/event",{method:"POST",keepalive:true,credentials:"omit",
headers:{"Content-Type":"application/json","App-Key":k},body:JSON.stringify({timestamp:new Date().toISOString(),
sessionId:sid(),eventName:String(name),systemProps:{locale:navigator.language||"",isDebug:d,
appVersion:s.getAttribute("data-app-version")||"",sdkVersion:"oddlytics-script@1"},props:props||null})})
.then(function(r){return r.ok},function(){return false})}
window.oddlytics={track:track};track("page_view",{path:location.pathname})})();
"""


async def get_script(ctx):
    response = Response(200)
    response.body = SCRIPT
    response.headers.update({"content-type": "application/javascript; charset=utf-8",
                             "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"})
    return response
