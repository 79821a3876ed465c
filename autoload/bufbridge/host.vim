" autoload/bufbridge/host.vim - the one channel to `bufbridge host`
"
" The functions in this file are for internal use only; see :help bufbridge.
"
" One host process per editor, started on the first request and kept until
" the editor exits (it exits itself when its input closes). The protocol is
" doc/host-protocol.md: JSON lines, [ID, {"method": ...}] asks, [ID, result]
" answers, [0, {"event": ..., "request": ID}] events. Vim speaks it with a
" channel in 'json' mode (Vim picks the ask IDs); Neovim with line callbacks
" and IDs of our own.
"
" bufbridge#host#request() returns a request object at once; its handlers
" are called as the reply arrives:
"   on_text(text)        a piece of the reply (what `bufbridge` writes to stdout)
"   on_stderr(text)      complete diagnostic lines
"   on_done(status, why) the request ended; why: '' (finished), 'cancelled',
"                        'unavailable' (the host exited before it answered
"                        anything: it cannot run here), or a sentence saying
"                        why the host could not finish it

if exists('g:autoloaded_bufbridge_host')
  finish
endif
let g:autoloaded_bufbridge_host = 1

" s:host: the running host, or {} when none runs.
"   cmd      the command it was started with (a new command means a new host)
"   job      Vim job / Neovim job id
"   requests ID -> request object, for the requests it runs
"   pending  Neovim: ask ID -> callback for its answer
"   partial  Neovim: the unfinished last line of its output
"   stderr   what it printed on its own standard error
"   answered whether it ever answered an ask (if not, it cannot run here)
"   starting requests asked for and not yet answered
let s:host = {}
let s:next_ask = 0

" Start a request; params: {'args': [...], 'text': '...', 'cwd': '...'} (see
" doc/host-protocol.md). Raises 'bufbridge: ...' when no host can be started.
function! bufbridge#host#request(cmd, params, handlers) abort
  let host = s:ensure(a:cmd)
  let request = extend({'id': 0, 'cancelled': 0, 'ended': 0}, a:handlers)
  call add(host.starting, request)
  call s:ask(host, extend({'method': 'request'}, a:params), function('s:started', [host, request]))
  return request
endfunction

" Cancel a request: its connection closes at once; on_done follows.
function! bufbridge#host#cancel(request) abort
  if a:request.cancelled || a:request.ended
    return
  endif
  let a:request.cancelled = 1
  if a:request.id && !empty(s:host)
    call s:ask(s:host, {'method': 'cancel', 'request': a:request.id}, v:null)
  endif
endfunction

" Stop the host (its requests end as cancelled); the next request starts a
" new one, with the editor's environment as it is then.
function! bufbridge#host#stop() abort
  if empty(s:host)
    return
  endif
  let host = s:host
  let s:host = {}
  if has('nvim')
    call jobstop(host.job)
  else
    call job_stop(host.job)
  endif
  call s:end_all(host, 'cancelled')
endfunction

" Starting {{{1

function! s:ensure(cmd) abort
  if !empty(s:host) && s:host.cmd ==# a:cmd
    return s:host
  endif
  call bufbridge#host#stop()
  let host = {'cmd': a:cmd, 'requests': {}, 'pending': {}, 'partial': '', 'stderr': '',
        \ 'answered': 0, 'starting': []}
  let argv = a:cmd + ['host']
  if has('nvim')
    let host.job = jobstart(argv, {
          \ 'on_stdout': function('s:nvim_out', [host]),
          \ 'on_stderr': function('s:nvim_err', [host]),
          \ 'on_exit': function('s:nvim_exit', [host])})
    if host.job <= 0
      throw 'bufbridge: cannot start ' . join(argv)
    endif
  else
    let host.job = job_start(argv, {'mode': 'json', 'noblock': 1,
          \ 'callback': function('s:vim_event', [host]),
          \ 'err_mode': 'raw', 'err_cb': function('s:vim_err', [host]),
          \ 'exit_cb': function('s:vim_exit', [host])})
    if job_status(host.job) ==# 'fail'
      throw 'bufbridge: cannot start ' . join(argv)
    endif
  endif
  let s:host = host
  return host
endfunction

" Asking {{{1

" Send an ask; Callback(result) gets its answer (v:null: no answer wanted).
function! s:ask(host, message, Callback) abort
  if has('nvim')
    let s:next_ask += 1
    if a:Callback isnot v:null
      let a:host.pending[s:next_ask] = a:Callback
    endif
    call chansend(a:host.job, json_encode([s:next_ask, a:message]) . "\n")
  else
    let options = a:Callback is v:null ? {} : {'callback': {channel, result -> a:Callback(result)}}
    call ch_sendexpr(job_getchannel(a:host.job), a:message, options)
  endif
endfunction

" The answer to a request: its ID, known from now on.
function! s:started(host, request, result) abort
  let a:host.answered = 1
  call filter(a:host.starting, 'v:val isnot a:request')
  if type(a:result) != v:t_dict || !has_key(a:result, 'started')
    call s:end(a:request, 1, 'the host refused the request: ' . string(a:result))
    return
  endif
  let a:request.id = a:result.started
  let a:host.requests[a:request.id] = a:request
  if a:request.cancelled
    let a:request.cancelled = 0
    call bufbridge#host#cancel(a:request)
  endif
endfunction

" Events {{{1

function! s:event(host, message) abort
  if type(a:message) != v:t_dict
    return
  endif
  let request = get(a:host.requests, get(a:message, 'request', 0), {})
  if empty(request)
    return
  endif
  let event = get(a:message, 'event', '')
  if event ==# 'text'
    call request.on_text(a:message.text)
  elseif event ==# 'stderr'
    call request.on_stderr(a:message.text)
  elseif event ==# 'done'
    call remove(a:host.requests, request.id)
    call s:end(request, a:message.status, a:message.cancelled ? 'cancelled' : '')
  endif
endfunction

function! s:end(request, status, why) abort
  if !a:request.ended
    let a:request.ended = 1
    call a:request.on_done(a:status, a:why)
  endif
endfunction

" The host went away: every request it ran (or was asked to run) ends, with the reason.
function! s:end_all(host, why) abort
  let requests = values(a:host.requests) + a:host.starting
  let a:host.requests = {}
  let a:host.starting = []
  for request in requests
    call s:end(request, 1, request.cancelled ? 'cancelled' : a:why)
  endfor
endfunction

function! s:exited(host, status) abort
  if s:host is a:host
    let s:host = {}
  endif
  let detail = substitute(a:host.stderr, '\n\+$', '', '')
  call s:end_all(a:host, !a:host.answered ? 'unavailable'
        \ : 'the bufbridge host stopped (exit status ' . a:status . ')'
        \ . (empty(detail) ? '' : ': ' . split(detail, "\n")[-1]))
endfunction

" Vim {{{1

function! s:vim_event(host, channel, message) abort
  call s:event(a:host, a:message)
endfunction

function! s:vim_err(host, channel, text) abort
  let a:host.stderr .= a:text
endfunction

function! s:vim_exit(host, job, status) abort
  call s:exited(a:host, a:status)
endfunction

" Neovim {{{1

" Neovim splits output at newlines; the last item is the start of the next line.
function! s:nvim_out(host, id, data, event) abort
  let lines = copy(a:data)
  let lines[0] = a:host.partial . lines[0]
  let a:host.partial = remove(lines, -1)
  for line in lines
    if line ==# ''
      continue
    endif
    let message = json_decode(line)
    if message[0] == 0
      call s:event(a:host, message[1])
    elseif has_key(a:host.pending, message[0])
      let Callback = remove(a:host.pending, message[0])
      call Callback(message[1])
    endif
  endfor
endfunction

function! s:nvim_err(host, id, data, event) abort
  let a:host.stderr .= join(a:data, "\n")
endfunction

function! s:nvim_exit(host, id, status, event) abort
  call s:exited(a:host, a:status)
endfunction

" vim:set et sw=2 foldmethod=marker:
